//! Other programs, run by a test: child processes that are ended with the
//! test (and show their output when it fails), the example binaries Cargo
//! built, free ports, scratch directories, and waiting for a server to
//! answer.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A child process, killed (with its process group) and reaped on drop. Its
/// output is collected, and printed if the test is failing.
pub struct Proc {
    pub name: String,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Proc {
    pub fn spawn(name: impl Into<String>, command: &mut Command) -> Proc {
        use std::os::unix::process::CommandExt;
        let name = name.into();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so that whatever it starts (nginx's
            // workers, a browser's many processes) is ended with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name} ({command:?}): {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        let streams = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for stream in streams.into_iter().flatten() {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let mut output = output.lock().unwrap();
                    output.push_str(&line);
                    output.push('\n');
                }
            });
        }
        Proc {
            name,
            child,
            output,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Everything it wrote so far, stdout and stderr interleaved by line.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Panics (with its output) if the process has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}); its output:\n{}",
                self.name,
                self.output()
            );
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // The whole group (the id is the child's own pid, see spawn).
            let group = format!("-{}", self.child.id());
            let killed = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !killed {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {} output ---\n{}--- end ---", self.name, self.output());
        }
    }
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nothing listens on right now (the OS's pick), for a child to bind.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `target/<profile>`, from this test's executable (`target/<profile>/deps/<test>-…`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test executable location {}", exe.display()))
        .to_owned()
}

/// The built example `name` of this package; panics saying how to build it
/// when it is missing.
pub fn example(name: &str) -> PathBuf {
    let binary = profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build --example {name}` first",
        binary.display()
    );
    binary
}

/// The first of `candidates` (a command name looked up in `PATH`, or a
/// path) that exists as a file.
pub fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    candidates.iter().find_map(|c| {
        if c.contains('/') {
            Some(PathBuf::from(c)).filter(|p| p.is_file())
        } else {
            std::env::split_paths(&path)
                .map(|dir| dir.join(c))
                .find(|p| p.is_file())
        }
    })
}

/// Waits until `url` answers (any HTTP status) while `proc` keeps running;
/// panics after `within`, with the process's output.
pub async fn wait_until_answering(proc: &mut Proc, url: &str, within: Duration) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let deadline = Instant::now() + within;
    loop {
        proc.assert_running();
        match client.get(url).send().await {
            Ok(_) => return,
            Err(e) if Instant::now() >= deadline => panic!(
                "{} did not answer {url} within {within:?} ({e}); its output:\n{}",
                proc.name,
                proc.output()
            ),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
