//! Measures a Tauri app the way a person meets it: the time from spawning the process to the first screen being
//! interactive (the app creates the file named by `CALCONNECT_BENCH_READY_FILE` when its page says so: no sleep,
//! no guess), and the memory it holds once idle (PSS, from `/proc/<pid>/smaps_rollup`, summed over the app and
//! every process it started: WebKit's web and network processes).
//!
//! Usage: `footprint [--runs N] [--idle-seconds S] -- PROGRAM [ARGS...]`. One warm-up run (page cache, first-run
//! set-up such as a keychain collection) is not counted. Prints `start_ms=MEDIAN` (median of N runs) and
//! `idle_pss_kb=MEDIAN` (each run measured S seconds after its spawn), then each run's figures.
//!
//! Linux only, and std only: the figures come from `/proc`, which no crate would make simpler.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

const READY_ENV: &str = "CALCONNECT_BENCH_READY_FILE";
const READY_TIMEOUT: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(1);

struct Options {
    runs: usize,
    idle: Duration,
    program: Vec<OsString>,
}

fn parse() -> Result<Options, String> {
    let mut args = std::env::args_os().skip(1);
    let mut options = Options {
        runs: 5,
        idle: Duration::from_secs(12),
        program: Vec::new(),
    };
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|value| value.to_str().and_then(|value| value.parse().ok()))
                .ok_or(format!("{name} takes a whole number"))
        };
        match arg.to_str() {
            Some("--runs") => options.runs = number("--runs")?.max(1) as usize,
            Some("--idle-seconds") => options.idle = Duration::from_secs(number("--idle-seconds")?),
            Some("--") => {
                options.program = args.by_ref().collect();
                break;
            }
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if options.program.is_empty() {
        return Err("usage: footprint [--runs N] [--idle-seconds S] -- PROGRAM [ARGS...]".into());
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let scratch = std::env::temp_dir().join(format!("footprint-{}", std::process::id()));
    if let Err(error) = std::fs::create_dir_all(&scratch) {
        eprintln!("cannot create {}: {error}", scratch.display());
        return ExitCode::FAILURE;
    }
    let result = measure(&options, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    match result {
        Ok(runs) => {
            let mut starts: Vec<u128> = runs.iter().map(|run| run.start.as_millis()).collect();
            let mut pss: Vec<u64> = runs.iter().map(|run| run.idle_pss_kb).collect();
            println!("start_ms={}", median(&mut starts));
            println!("idle_pss_kb={}", median(&mut pss));
            for (index, run) in runs.iter().enumerate() {
                println!(
                    "run {}: start {} ms, idle PSS {} kB over {} processes ({})",
                    index + 1,
                    run.start.as_millis(),
                    run.idle_pss_kb,
                    run.processes.len(),
                    run.processes.join(", ")
                );
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

struct Run {
    start: Duration,
    idle_pss_kb: u64,
    /// `name pss_kb` of each process counted.
    processes: Vec<String>,
}

fn measure(options: &Options, scratch: &Path) -> Result<Vec<Run>, String> {
    // The warm-up run only needs to reach its first screen.
    let warm_up = launch(options, &scratch.join("ready-warm-up"), None)?;
    drop(warm_up);
    (0..options.runs)
        .map(|index| {
            launch(
                options,
                &scratch.join(format!("ready-{index}")),
                Some(options.idle),
            )
        })
        .collect()
}

/// Starts the program, waits for its ready file, and (with `idle`) measures PSS that long after the spawn.
fn launch(options: &Options, ready: &Path, idle: Option<Duration>) -> Result<Run, String> {
    let _ = std::fs::remove_file(ready);
    let spawned = Instant::now();
    let child = Command::new(&options.program[0])
        .args(&options.program[1..])
        .env(READY_ENV, ready)
        // Its own process group, so the app and every process it started are stopped together.
        .process_group(0)
        .spawn()
        .map_err(|error| format!("cannot start {:?}: {error}", options.program[0]))?;
    let mut app = Running(child);
    while !ready.exists() {
        if spawned.elapsed() > READY_TIMEOUT {
            return Err(format!(
                "{:?} did not signal ready within {} s",
                options.program[0],
                READY_TIMEOUT.as_secs()
            ));
        }
        if let Ok(Some(status)) = app.0.try_wait() {
            return Err(format!(
                "{:?} exited before its first screen: {status}",
                options.program[0]
            ));
        }
        std::thread::sleep(POLL);
    }
    let start = spawned.elapsed();
    let (idle_pss_kb, processes) = match idle {
        Some(idle) => {
            std::thread::sleep(idle.saturating_sub(spawned.elapsed()));
            tree_pss(app.0.id())
        }
        None => (0, Vec::new()),
    };
    Ok(Run {
        start,
        idle_pss_kb,
        processes,
    })
}

/// A started app, stopped (its whole process group) when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let signal = |name: &str| {
            let _ = Command::new("kill")
                .args(["-s", name, "--", &group])
                .status();
        };
        signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever of the group is left (a WebKit helper that ignored TERM).
        signal("KILL");
        let _ = self.0.wait();
    }
}

/// PSS in kB of `root` and all its descendants, with each process's name and share.
fn tree_pss(root: u32) -> (u64, Vec<String>) {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut names: HashMap<u32, String> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
            let Some((head, rest)) = stat.rsplit_once(") ") else {
                continue;
            };
            let name = head
                .split_once(" (")
                .map_or("?", |(_, name)| name)
                .to_owned();
            let Some(ppid) = rest
                .split(' ')
                .nth(1)
                .and_then(|ppid| ppid.parse::<u32>().ok())
            else {
                continue;
            };
            children.entry(ppid).or_default().push(pid);
            names.insert(pid, name);
        }
    }
    let mut total = 0;
    let mut counted = Vec::new();
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        let pss = pss_kb(&PathBuf::from(format!("/proc/{pid}/smaps_rollup"))).unwrap_or(0);
        total += pss;
        counted.push(format!(
            "{} {pss} kB",
            names.get(&pid).map_or("?", String::as_str)
        ));
        pending.extend(children.get(&pid).into_iter().flatten());
    }
    (total, counted)
}

/// The `Pss:` line of a `smaps_rollup` file, in kB.
fn pss_kb(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

fn median<T: Ord + Copy>(values: &mut [T]) -> T {
    values.sort_unstable();
    values[values.len() / 2]
}
