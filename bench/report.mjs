// Formats bench/load.sh's results: a table on stdout, and
// <out>/latest.md (table + raw JSON) and <out>/latest.json.
//
//   node report.mjs results.jsonl OUT_DIR    (metadata from BENCH_* variables)
//
// Each server ran ROUNDS times (interleaved with the others); the table shows
// the median of each column over the rounds, and the spread of req/s.

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

const median = (values) => {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const sum = (values) => values.reduce((a, b) => a + b, 0);

// One summary per server, in the order they ran.
const names = [...new Set(runs.map((r) => r.name))];
const servers = names.map((name) => {
  const rs = runs.filter((r) => r.name === name);
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
    server_cpu_pct: col((r) => r.server_cpu_pct),
    load_cores_busy_pct: col((r) => r.load_cores_busy_pct),
    other_cpu_pct: col((r) => r.other_cpu_pct),
    requests: sum(rs.map((r) => r.wrk.requests)),
    status_errors: sum(rs.map((r) => r.wrk.status_errors)),
    socket_errors: sum(
      rs.map((r) => r.wrk.connect_errors + r.wrk.read_errors + r.wrk.write_errors + r.wrk.timeouts),
    ),
  };
});
const by = Object.fromEntries(servers.map((s) => [s.name, s]));

// Ratios of the medians, and the median of the per-round ratios (each round
// ran its servers back to back, so per-round ratios shrug off slow drift).
const rounds = [...new Set(runs.map((r) => r.round))];
const perRound = (a, b) =>
  median(
    rounds.map((round) => {
      const ra = runs.find((r) => r.name === a && r.round === round);
      const rb = runs.find((r) => r.name === b && r.round === round);
      return ra && rb ? ra.rps / rb.rps : null;
    }),
  );
const ratio = (a, b, key) => (by[a] && by[b] ? by[a][key] / by[b][key] : null);
const ratios = {
  authkit_over_none_rps: ratio('authkit', 'none', 'rps'),
  authkit_over_node_rps: ratio('authkit', 'node', 'rps'),
  authkit_over_none_rps_per_round: perRound('authkit', 'none'),
  authkit_over_node_rps_per_round: perRound('authkit', 'node'),
  authkit_over_none_p50: ratio('authkit', 'none', 'p50_us'),
  authkit_over_node_p50: ratio('authkit', 'node', 'p50_us'),
  authkit_over_node_p99: ratio('authkit', 'node', 'p99_us'),
};

const ms = (us) => (us === null ? 'n/a' : (us / 1000).toFixed(2));
const pct = (v) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(0)}%`);
const x = (v) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(2)}×`);
const kilo = (v) => (v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0));

const header = [
  'server', 'req/s', 'req/s range', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms',
  'server CPU', 'wrk cores busy', 'other CPU', 'requests', 'non-2xx', 'socket errors',
];
const rows = servers.map((s) => [
  s.label,
  s.rps.toFixed(0),
  s.rounds > 1 ? `${kilo(s.rps_min)}–${kilo(s.rps_max)}` : '-',
  ms(s.p50_us),
  ms(s.p90_us),
  ms(s.p99_us),
  ms(s.p999_us),
  pct(s.server_cpu_pct),
  pct(s.load_cores_busy_pct),
  pct(s.other_cpu_pct),
  String(s.requests),
  String(s.status_errors),
  String(s.socket_errors),
]);

let storm = null;
try {
  storm = env.BENCH_STORM ? JSON.parse(env.BENCH_STORM) : null;
} catch {
  storm = { unparsed: env.BENCH_STORM };
}

const meta = {
  date: env.BENCH_DATE,
  machine: {
    nproc: Number(env.BENCH_NPROC),
    cpu: env.BENCH_CPU,
    kernel: env.BENCH_KERNEL,
    memory: env.BENCH_MEMORY,
    background_busy_pct_before: Number(env.BENCH_BACKGROUND_BUSY),
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
    duration_s: Number(env.BENCH_DURATION),
    warmup_s: Number(env.BENCH_WARMUP),
    rounds: Number(env.BENCH_ROUNDS),
    connections: Number(env.BENCH_CONNECTIONS),
    threads: Number(env.BENCH_THREADS),
    pinned: env.BENCH_PINNED === '1',
    server_cpus: env.BENCH_SERVER_CPUS,
    load_cpus: env.BENCH_LOAD_CPUS,
  },
};
const disturbed = runs.filter((r) => r.other_cpu_pct > 15).map((r) => `${r.label} (round ${r.round})`);

// ---- stdout: an aligned table
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
const s = meta.settings;
console.log(`medians of ${s.rounds} round(s) of ${s.duration_s} s per server`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of rows) console.log(line(row));
console.log();
console.log(
  `authkit / none (req/s): ${x(ratios.authkit_over_none_rps)} (median per round ${x(ratios.authkit_over_none_rps_per_round)})`,
);
console.log(
  `authkit / node (req/s): ${x(ratios.authkit_over_node_rps)} (median per round ${x(ratios.authkit_over_node_rps_per_round)})`,
);
console.log(
  `p50 latency, authkit / none: ${x(ratios.authkit_over_none_p50)}, authkit / node: ${x(ratios.authkit_over_node_p50)}`,
);
if (storm) console.log(`storm: ${JSON.stringify(storm)}`);
for (const d of disturbed) console.log(`WARNING: ${d} was disturbed by other processes`);

// ---- files
const json = { ...meta, servers, ratios, storm, runs };
writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);

const md = [];
md.push('# bench/load.sh — latest results', '');
md.push(
  `${meta.date} · ${meta.machine.nproc} CPUs (${meta.machine.cpu}) · ${meta.machine.memory} · Linux ${meta.machine.kernel}`,
  '',
);
md.push(
  `authkit-axum ${meta.versions.authkit_axum} · ${meta.versions.rustc} · ${meta.versions.wrk} · ` +
    `Node ${meta.versions.node}, @workos-inc/node ${meta.versions.workos_node}, iron-session ${meta.versions.iron_session}`,
  '',
);
md.push(
  `GET /api/ping with a valid \`wos-session\` cookie; wrk, ${s.rounds} round(s) of ${s.duration_s} s per server ` +
    `(interleaved, each after a ${s.warmup_s} s warm-up), ${s.connections} connections, ${s.threads} threads; ` +
    (s.pinned
      ? `server pinned to core(s) ${s.server_cpus}, wrk and the emulator to core(s) ${s.load_cpus}.`
      : 'not pinned.') +
    ' Each column is the median over the rounds.',
  '',
);
if (meta.machine.background_busy_pct_before >= 10) {
  md.push(
    `**Warning:** other processes kept the CPUs ${meta.machine.background_busy_pct_before}% busy when the run started; these numbers are disturbed.`,
    '',
  );
}
if (disturbed.length) {
  md.push(`**Warning:** other processes took more than 15% of a core during: ${disturbed.join(', ')}.`, '');
}
md.push(`| ${header.join(' | ')} |`);
md.push(`| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
for (const row of rows) md.push(`| ${row.join(' | ')} |`);
md.push('');
md.push(
  `- authkit / none (req/s): **${x(ratios.authkit_over_none_rps)}** (median of the per-round ratios: ${x(ratios.authkit_over_none_rps_per_round)})`,
);
md.push(
  `- authkit / node (req/s): **${x(ratios.authkit_over_node_rps)}** (median of the per-round ratios: ${x(ratios.authkit_over_node_rps_per_round)})`,
);
md.push(
  `- p50 latency, authkit / none: ${x(ratios.authkit_over_none_p50)}; authkit / node: ${x(ratios.authkit_over_node_p50)}; p99 authkit / node: ${x(ratios.authkit_over_node_p99)}`,
);
md.push(
  '- "server CPU": the server process\'s CPU time over the run, in % of one core. "wrk cores busy": how busy the ' +
    'load generator\'s core(s) were (pinned runs only). "other CPU": CPU time used by anything but the server, wrk ' +
    'and the emulator, in % of one core (about 0 on a quiet machine).',
);
md.push('');
if (storm) {
  md.push('## Refresh storm', '');
  md.push(
    `${storm.requests} concurrent requests carrying one session whose access token had expired: ` +
      `${storm.ok} answered 200, ${storm.errors} failed, **${storm.upstream_refresh_calls}** refresh call(s) ` +
      `reached WorkOS (the emulator); ${storm.distinct_new_cookies} distinct new cookie(s) handed out, in ${storm.elapsed_ms?.toFixed?.(0)} ms.`,
    '',
  );
}
md.push('## Raw', '', '```json', JSON.stringify(json, null, 2), '```', '');
writeFileSync(join(outDir, 'latest.md'), md.join('\n'));
console.log(`\nwrote ${join(outDir, 'latest.md')} and latest.json`);
