// Formats bench/load.sh's results: a table per mode on stdout, and
// <out>/latest.md (table + raw JSON) and <out>/latest.json.
//
//   node report.mjs results.jsonl OUT_DIR    (metadata from BENCH_* variables)
//
// Each server ran ROUNDS times (interleaved with the others); the table shows
// the median of each column over the rounds, and the spread of req/s; the
// ratios are the medians of the per-round ratios.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [resultsPath, outDir] = process.argv.slice(2);
if (!resultsPath || !outDir) {
  process.stderr.write('usage: node report.mjs results.jsonl OUT_DIR\n');
  process.exit(2);
}

const env = process.env;
const runs = readFileSync(resultsPath, 'utf8')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line))
  .map((r) => ({ ...r, rps: r.wrk.requests / (r.wrk.duration_us / 1e6) }));

// The finite numbers of `values`, in order.
const sorted = (values) => values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
const median = (values) => {
  const v = sorted(values);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const sum = (values) => values.reduce((a, b) => a + b, 0);
// The first and third quartiles (the median of each half).
const quartiles = (values) => {
  const v = sorted(values);
  if (v.length < 4) return null;
  const half = Math.floor(v.length / 2);
  return [median(v.slice(0, half)), median(v.slice(v.length - half))];
};

// The modes, in the order they ran (results without a mode are cookie-hot,
// the only mode before there were several).
const modeOf = (r) => r.mode ?? 'cookie-hot';
const modes = [...new Set(runs.map(modeOf))];
// The layer's default caches hold 2 048 cookies (each with its token) and
// 10 000 Bearer tokens.
const fitsCaches = (capacity) =>
  Number(env.BENCH_SESSIONS) <= capacity
    ? ' (no more than the layer\'s default caches hold: partly or wholly cache hits, a smoke test only)'
    : '';
const MODE_TEXT = {
  'cookie-hot': 'GET /api/ping (AuthUser), one `wos-session` cookie on every request (the caches\' case)',
  'cookie-cold': `GET /api/ping (AuthUser), ${env.BENCH_SESSIONS} distinct sessions round-robin, one cookie a request${fitsCaches(2048)}`,
  'bearer-hot': 'GET /api/claims (AuthClaims), one `Authorization: Bearer` access token on every request',
  'bearer-cold': `GET /api/claims (AuthClaims), ${env.BENCH_SESSIONS} distinct access tokens round-robin${fitsCaches(10_000)}`,
};
// CPU per request: the server's utime + stime over the measured window ÷
// the requests wrk completed in it, in µs.
const cpuPerRequest = (r) =>
  r.server_cpu_ticks === undefined ? null : ((r.server_cpu_ticks / r.clk_tck) * 1e6) / r.wrk.requests;
// The user-mode part of it (utime): the server's own code.
const userPerRequest = (r) =>
  r.server_user_ticks === undefined ? null : ((r.server_user_ticks / r.clk_tck) * 1e6) / r.wrk.requests;

// Whether each server stayed up across its mode's rounds (KEEP=1).
const kept = env.BENCH_KEEP === '1';
const last = (rs) => rs.reduce((a, b) => (b.round > a.round ? b : a));
// One summary per mode and server, in the order they ran.
const summarize = (mode) => {
  const inMode = runs.filter((r) => modeOf(r) === mode);
  const names = [...new Set(inMode.map((r) => r.name))];
  const servers = names.map((name) => {
    const rs = inMode.filter((r) => r.name === name);
    const col = (f) => median(rs.map(f));
    return {
      name,
      label: rs[0].label,
      rounds: rs.length,
      rps: col((r) => r.rps),
      rps_min: Math.min(...rs.map((r) => r.rps)),
      rps_max: Math.max(...rs.map((r) => r.rps)),
      p50_us: col((r) => r.wrk.p50_us),
      p90_us: col((r) => r.wrk.p90_us),
      p99_us: col((r) => r.wrk.p99_us),
      p999_us: col((r) => r.wrk.p999_us),
      cpu_us_per_request: col(cpuPerRequest),
      user_us_per_request: col(userPerRequest),
      server_cpu_pct: col((r) => r.server_cpu_pct),
      load_cores_busy_pct: col((r) => r.load_cores_busy_pct),
      other_cpu_pct: col((r) => r.other_cpu_pct),
      rss_start_kib: col((r) => r.rss_start_kib),
      // A server kept up across the rounds only grows: its RSS at the end
      // is the last round's, its peak the highest.
      rss_end_kib: kept ? last(rs).rss_end_kib : col((r) => r.rss_end_kib),
      rss_hwm_kib: kept ? Math.max(...rs.map((r) => r.rss_hwm_kib)) : col((r) => r.rss_hwm_kib),
      requests: sum(rs.map((r) => r.wrk.requests)),
      status_errors: sum(rs.map((r) => r.wrk.status_errors)),
      socket_errors: sum(
        rs.map((r) => r.wrk.connect_errors + r.wrk.read_errors + r.wrk.write_errors + r.wrk.timeouts),
      ),
    };
  });
  const by = Object.fromEntries(servers.map((s) => [s.name, s]));
  // Ratios of the medians, and the median of the per-round ratios (each
  // round ran its servers back to back, so per-round ratios shrug off slow
  // drift: the headline figure), with their quartiles.
  const rounds = [...new Set(inMode.map((r) => r.round))];
  // Servers a and b's runs of each round (undefined where one is missing).
  const roundPairs = (a, b) =>
    rounds.map((round) => [
      inMode.find((r) => r.name === a && r.round === round),
      inMode.find((r) => r.name === b && r.round === round),
    ]);
  const roundRatios = (a, b) => roundPairs(a, b).map(([ra, rb]) => (ra && rb ? ra.rps / rb.rps : null));
  const perRound = (a, b) => median(roundRatios(a, b));
  // The median of the per-round differences of `f` (a CPU per request),
  // as the per-round ratios are taken.
  const perRoundMinus = (a, b, f) =>
    median(
      roundPairs(a, b).map(([ra, rb]) => {
        const fa = ra && f(ra);
        const fb = rb && f(rb);
        return typeof fa === 'number' && typeof fb === 'number' ? fa - fb : null;
      }),
    );
  const ratio = (a, b, key) => (by[a] && by[b] && by[b][key] ? by[a][key] / by[b][key] : null);
  // A difference of the median rounds' figures.
  const minus = (a, b, key) =>
    by[a] && by[b] && by[a][key] !== null && by[b][key] !== null ? by[a][key] - by[b][key] : null;
  const ratios = {
    authkit_over_none_rps: ratio('authkit', 'none', 'rps'),
    authkit_over_node_rps: ratio('authkit', 'node', 'rps'),
    authkit_over_none_rps_per_round: perRound('authkit', 'none'),
    authkit_over_node_rps_per_round: perRound('authkit', 'node'),
    authkit_over_none_rps_quartiles: quartiles(roundRatios('authkit', 'none')),
    authkit_over_none_p50: ratio('authkit', 'none', 'p50_us'),
    authkit_over_node_p50: ratio('authkit', 'node', 'p50_us'),
    authkit_over_node_p99: ratio('authkit', 'node', 'p99_us'),
    // What authentication costs a request beyond the ceiling's work.
    authkit_minus_none_cpu_us: minus('authkit', 'none', 'cpu_us_per_request'),
    authkit_minus_none_user_us: minus('authkit', 'none', 'user_us_per_request'),
    node_over_authkit_cpu: ratio('node', 'authkit', 'cpu_us_per_request'),
    // Any layer of the AuthKit layer's shape (an `Extension`, the two
    // response headers), for scale; and authentication beyond that shape.
    layer_over_none_rps: ratio('layer', 'none', 'rps'),
    layer_over_none_rps_per_round: perRound('layer', 'none'),
    authkit_over_layer_rps: ratio('authkit', 'layer', 'rps'),
    authkit_over_layer_rps_per_round: perRound('authkit', 'layer'),
    layer_over_none_rps_quartiles: quartiles(roundRatios('layer', 'none')),
    layer_minus_none_cpu_us: minus('layer', 'none', 'cpu_us_per_request'),
    // The cold modes' bound: the layer against the ceiling that pays the
    // crypto floor under the same load (goal: at most 10 µs more); medians
    // of the per-round differences.
    authkit_minus_floor_cpu_us: perRoundMinus('authkit', 'floor', cpuPerRequest),
    nocache_minus_floor_cpu_us: perRoundMinus('nocache', 'floor', cpuPerRequest),
    authkit_minus_floor_user_us: perRoundMinus('authkit', 'floor', userPerRequest),
    nocache_minus_floor_user_us: perRoundMinus('nocache', 'floor', userPerRequest),
    floor_minus_none_cpu_us: perRoundMinus('floor', 'none', cpuPerRequest),
    floor_minus_none_user_us: perRoundMinus('floor', 'none', userPerRequest),
    authkit_over_floor_rps_per_round: perRound('authkit', 'floor'),
  };
  return { mode, description: MODE_TEXT[mode] ?? mode, servers, ratios };
};
const results = modes.map(summarize);

const ms = (us) => (us === null ? 'n/a' : (us / 1000).toFixed(2));
const pct = (v) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(0)}%`);
const x = (v) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(2)}×`);
const kilo = (v) => (v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0));
const us = (v) => (v === null || v === undefined ? 'n/a' : v.toFixed(1));
const mib = (kib) => (kib === null || kib === undefined ? 'n/a' : (kib / 1024).toFixed(1));

const header = [
  'server', 'req/s', 'req/s range', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'CPU µs/req', 'user µs/req',
  'server CPU', 'wrk cores busy', 'other CPU', 'RSS start MiB', 'RSS end MiB', 'RSS peak MiB',
  'requests', 'non-2xx', 'socket errors',
];
const rowsOf = (result) =>
  result.servers.map((s) => [
    s.label,
    s.rps.toFixed(0),
    s.rounds > 1 ? `${kilo(s.rps_min)}–${kilo(s.rps_max)}` : '-',
    ms(s.p50_us),
    ms(s.p90_us),
    ms(s.p99_us),
    ms(s.p999_us),
    us(s.cpu_us_per_request),
    us(s.user_us_per_request),
    pct(s.server_cpu_pct),
    pct(s.load_cores_busy_pct),
    pct(s.other_cpu_pct),
    mib(s.rss_start_kib),
    mib(s.rss_end_kib),
    mib(s.rss_hwm_kib),
    String(s.requests),
    String(s.status_errors),
    String(s.socket_errors),
  ]);
// The per-round ratios' quartiles, from four rounds on.
const iqr = (q) => (q ? `; per-round interquartile range ${q[0].toFixed(2)}–${q[1].toFixed(2)}` : '');
const ratioLines = ({ ratios }) => [
  `authkit / ceiling (req/s), median of the per-round ratios: **${x(ratios.authkit_over_none_rps_per_round)}** (ratio of the median rounds: ${x(ratios.authkit_over_none_rps)}${iqr(ratios.authkit_over_none_rps_quartiles)})`,
  ...(ratios.layer_over_none_rps === null
    ? []
    : [
        `Extension + Cache-Control/Vary / ceiling (req/s), median of the per-round ratios: ${x(ratios.layer_over_none_rps_per_round)} (ratio of the median rounds: ${x(ratios.layer_over_none_rps)}${iqr(ratios.layer_over_none_rps_quartiles)}); CPU per request, that layer − ceiling: ${us(ratios.layer_minus_none_cpu_us)} µs`,
        `authkit / Extension + Cache-Control/Vary (req/s), median of the per-round ratios: ${x(ratios.authkit_over_layer_rps_per_round)} (ratio of the median rounds: ${x(ratios.authkit_over_layer_rps)})`,
      ]),
  ...(ratios.authkit_minus_floor_cpu_us === null
    ? []
    : [
        `CPU per request, authkit − ceiling with the crypto floor: **${us(ratios.authkit_minus_floor_cpu_us)} µs**, caches off ${us(ratios.nocache_minus_floor_cpu_us)} µs (the goal: at most 10); user time alone ${us(ratios.authkit_minus_floor_user_us)} µs, caches off ${us(ratios.nocache_minus_floor_user_us)} µs; that floor server − ceiling: ${us(ratios.floor_minus_none_cpu_us)} µs (user ${us(ratios.floor_minus_none_user_us)} µs, against the floor \`cargo bench --bench cold\` prints); authkit / that server (req/s), median of the per-round ratios: ${x(ratios.authkit_over_floor_rps_per_round)}`,
      ]),
  `authkit / Node (req/s), median of the per-round ratios: **${x(ratios.authkit_over_node_rps_per_round)}** (ratio of the median rounds: ${x(ratios.authkit_over_node_rps)})`,
  `CPU per request, authkit − ceiling: **${us(ratios.authkit_minus_none_cpu_us)} µs** (user time alone ${us(ratios.authkit_minus_none_user_us)} µs); Node / authkit: ${x(ratios.node_over_authkit_cpu)}`,
  `p50 latency, authkit / ceiling: ${x(ratios.authkit_over_none_p50)}; authkit / Node: ${x(ratios.authkit_over_node_p50)}; p99 authkit / Node: ${x(ratios.authkit_over_node_p99)}`,
];

const parseStorm = (text) => {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { unparsed: text };
  }
};
const storm = parseStorm(env.BENCH_STORM);
const replicaStorm = parseStorm(env.BENCH_REPLICA_STORM);

const meta = {
  date: env.BENCH_DATE,
  elapsed_s: Number(env.BENCH_ELAPSED),
  machine: {
    nproc: Number(env.BENCH_NPROC),
    cpu: env.BENCH_CPU,
    kernel: env.BENCH_KERNEL,
    memory: env.BENCH_MEMORY,
    background_busy_pct_before: Number(env.BENCH_BACKGROUND_BUSY),
    idle_poll: env.BENCH_IDLE_POLL === undefined ? null : env.BENCH_IDLE_POLL === '1',
    idle: env.BENCH_IDLE,
    poll_state_entries: Number(env.BENCH_POLL_ENTRIES),
  },
  versions: {
    authkit_axum: env.BENCH_COMMIT,
    rustc: env.BENCH_RUSTC,
    wrk: env.BENCH_WRK,
    node: env.BENCH_NODE,
    workos_node: env.BENCH_WORKOS_NODE,
    iron_session: env.BENCH_IRON,
  },
  settings: {
    modes,
    sessions: Number(env.BENCH_SESSIONS),
    duration_s: Number(env.BENCH_DURATION),
    warmup_s: Number(env.BENCH_WARMUP),
    rounds: Number(env.BENCH_ROUNDS),
    servers_kept: kept,
    connections: Number(env.BENCH_CONNECTIONS),
    threads: Number(env.BENCH_THREADS),
    pinned: env.BENCH_PINNED === '1',
    server_cpus: env.BENCH_SERVER_CPUS,
    load_cpus: env.BENCH_LOAD_CPUS,
  },
};
const disturbed = runs
  .filter((r) => r.other_cpu_pct > 15)
  .map((r) => `${modeOf(r)}: ${r.label} (round ${r.round})`);
const stormText = (st) =>
  `${st.requests} concurrent requests carrying one session whose access token had expired, ` +
  `${st.replicas > 1 ? `through ${st.through} over ${st.replicas} replicas` : 'to one process'}: ` +
  `${st.ok} answered 200, ${st.errors} failed, **${st.upstream_refresh_calls}** refresh call(s) ` +
  `reached WorkOS (the emulator); ${st.distinct_new_cookies} distinct new cookie(s) handed out, in ${st.elapsed_ms?.toFixed?.(0)} ms.`;
const machineLine = `${meta.machine.nproc} CPUs (${meta.machine.cpu}) · ${meta.machine.memory} · Linux ${meta.machine.kernel}`;
// Older runs' JSON has no idle line.
const idleLine = meta.machine.idle
  ? `${meta.machine.idle}, ${meta.machine.poll_state_entries} POLL-state entries during the run`
  : 'idle states not recorded';

// ---- stdout: an aligned table per mode
const s = meta.settings;
const cpuNote =
  'CPU µs/req: the server process\'s utime+stime over the measured window ÷ its requests; user µs/req: its utime alone ' +
  '(its own code; the rest is the kernel\'s network work, which on a VM whose idle cores halt can grow per request as a server\'s throughput falls (IDLE_POLL); the kernel splits the two by clock-tick samples, so the split is an estimate, about ±1 µs a request in a 3 s round). ' +
  'RSS: VmRSS at start (before the warm-up) and at the end (of the last round, for servers kept up across the rounds; else the median round), and VmHWM (peak; the highest for kept servers).';
console.log(`${meta.date} · ${machineLine}`);
console.log(
  `medians of ${s.rounds} round(s) of ${s.duration_s} s per server; ${s.connections} connections, ${s.threads} wrk threads; ` +
    (s.pinned ? `server on core(s) ${s.server_cpus}, wrk on ${s.load_cpus}` : 'not pinned') +
    `; ${idleLine}`,
);
for (const result of results) {
  const rows = rowsOf(result);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log();
  console.log(`${result.mode}: ${result.description}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  for (const l of ratioLines(result)) console.log(l.replaceAll('**', ''));
}
console.log();
console.log(cpuNote);
if (storm) console.log(`storm: ${JSON.stringify(storm)}`);
if (replicaStorm) console.log(`storm through replicas: ${JSON.stringify(replicaStorm)}`);
else console.log(`storm through replicas: skipped (${env.BENCH_REPLICA_STORM_SKIPPED ?? 'no nginx'})`);
if (disturbed.length > 3) {
  console.log(`WARNING: ${disturbed.length} of ${runs.length} runs were disturbed by other processes (other CPU > 15% of a core)`);
} else {
  for (const d of disturbed) console.log(`WARNING: ${d} was disturbed by other processes`);
}
console.log(`the whole run took ${meta.elapsed_s} s`);

// ---- files
const json = { ...meta, results, storm, replica_storm: replicaStorm, runs };
writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);

const md = [];
md.push('# bench/load.sh — latest results', '');
md.push(`${meta.date} · ${machineLine}`, '');
md.push(
  `authkit-axum ${meta.versions.authkit_axum} · ${meta.versions.rustc} · ${meta.versions.wrk} · ` +
    `Node ${meta.versions.node}, @workos-inc/node ${meta.versions.workos_node}, iron-session ${meta.versions.iron_session}`,
  '',
);
md.push(
  `wrk, ${s.rounds} round(s) of ${s.duration_s} s per server ` +
    (s.servers_kept
      ? `(interleaved; each server started once per mode, warmed up for ${s.warmup_s} s and kept running across the rounds), `
      : `(interleaved, each server restarted every round after a ${s.warmup_s} s warm-up), `) +
    `${s.connections} connections, ${s.threads} threads; ` +
    (s.pinned
      ? `server pinned to core(s) ${s.server_cpus}, wrk and the emulator to core(s) ${s.load_cpus}.`
      : 'not pinned.') +
    ` ${idleLine[0].toUpperCase()}${idleLine.slice(1)}.` +
    ` Each column is the median over the rounds. The whole run took ${meta.elapsed_s} s.`,
  '',
);
if (meta.machine.background_busy_pct_before >= 10) {
  md.push(
    `**Warning:** other processes kept the CPUs ${meta.machine.background_busy_pct_before}% busy when the run started; these numbers are disturbed.`,
    '',
  );
}
if (disturbed.length > 3) {
  md.push(`**Warning:** other processes took more than 15% of a core during ${disturbed.length} of the ${runs.length} runs.`, '');
} else if (disturbed.length) {
  md.push(`**Warning:** other processes took more than 15% of a core during: ${disturbed.join(', ')}.`, '');
}
for (const result of results) {
  md.push(`## ${result.mode}`, '', `${result.description}.`, '');
  md.push(`| ${header.join(' | ')} |`);
  md.push(`| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rowsOf(result)) md.push(`| ${row.join(' | ')} |`);
  md.push('');
  for (const l of ratioLines(result)) md.push(`- ${l}`);
  md.push('');
}
md.push(
  `- ${cpuNote} "server CPU": the server process's CPU time over the run, in % of one core. "wrk cores busy": how busy the ` +
    'load generator\'s core(s) were (pinned runs only). "other CPU": CPU time used by anything but the server, wrk ' +
    'and the emulator, in % of one core (about 0 on a quiet machine).',
);
md.push('');
md.push('## Refresh storms', '');
if (storm) md.push(`- ${stormText(storm)}`);
md.push(
  replicaStorm
    ? `- ${stormText(replicaStorm)}`
    : `- Through two replicas behind nginx: skipped (${env.BENCH_REPLICA_STORM_SKIPPED ?? 'no nginx'}).`,
);
md.push('');
md.push('## Raw', '', '```json', JSON.stringify(json, null, 2), '```', '');
writeFileSync(join(outDir, 'latest.md'), md.join('\n'));
console.log(`\nwrote ${join(outDir, 'latest.md')} and latest.json`);
