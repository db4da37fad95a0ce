//! Section 1, the load path from user space on the running kernel: every loader loads,
//! attaches and pins every object, then frees it, each run timed by the loader's own
//! process (so process start, dynamic linking and reading the object are outside).
//! The loaders take turns in rounds of a few runs, so that a burst of load on the
//! shared machine hits all of them rather than one.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::peers::{self, Peers};
use crate::{output, Cell, Stats, Subject};

pub const LOADERS: [&str; 4] = ["ours", "libbpf", "lskel", "aya"];

/// One loader on one object.
#[derive(Debug, Clone)]
pub struct Measured {
    /// load + attach + pin, ms.
    pub load: Stats,
    /// unpin + detach + close, ms.
    pub free: Stats,
    /// `attached/programs`, as the loader reported it.
    pub attached: String,
    /// Ours only: time inside system calls during load, ms, and the number of calls.
    pub syscalls: Option<(Stats, u32)>,
    /// Ours only: load minus system calls, per run, ms.
    pub own: Option<Stats>,
}

/// Per object, per loader: the measurement or why there is none.
pub type Results = BTreeMap<String, BTreeMap<&'static str, std::result::Result<Measured, String>>>;

#[derive(Default)]
struct Samples {
    load: Vec<f64>,
    free: Vec<f64>,
    kernel: Vec<f64>,
    own: Vec<f64>,
    calls: u32,
    attached: String,
}

/// Parses `RUN <load_ns> <free_ns> <a>/<p> [<syscall_ns> <calls>]` lines.
fn parse(text: &str, into: &mut Samples) {
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.first() != Some(&"RUN") || w.len() < 4 {
            continue;
        }
        let ns = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN) / 1e6;
        let (load, free) = (ns(w[1]), ns(w[2]));
        into.load.push(load);
        into.free.push(free);
        into.attached = w[3].to_string();
        if let (Some(k), Some(c)) = (w.get(4), w.get(5)) {
            into.kernel.push(ns(k));
            into.own.push(load - ns(k));
            into.calls = c.parse().unwrap_or(0);
        }
    }
}

fn command(
    loader: &str,
    subject: &Subject,
    peers: &Peers,
    sections: &[String],
    dir: &Path,
    runs: usize,
) -> std::result::Result<Command, String> {
    let runs = runs.to_string();
    let mut cmd;
    match loader {
        "ours" => {
            cmd = Command::new(&peers.ours[&subject.name]);
            cmd.arg(dir).arg(runs);
        }
        "libbpf" => {
            cmd = Command::new(
                peers
                    .libbpf
                    .as_ref()
                    .map_err(|e| format!("not built: {e}"))?,
            );
            cmd.arg(&subject.obj).arg(dir).arg(runs);
        }
        "lskel" => {
            let bin = peers.lskel[&subject.name]
                .as_ref()
                .map_err(|e| format!("not built: {e}"))?;
            cmd = Command::new(bin);
            cmd.arg(dir).arg(runs);
        }
        _ => {
            cmd = Command::new(peers.aya.as_ref().map_err(|e| format!("not built: {e}"))?);
            cmd.arg(&subject.obj).arg(dir).arg(runs).args(sections);
        }
    }
    Ok(cmd)
}

pub fn run(subjects: &[Subject], bpffs: &Path, runs: usize) -> Result<Results> {
    println!("    building the peers");
    let peers = peers::build(subjects)?;
    let mut results = Results::new();
    let round = 5.min(runs);
    for subject in subjects {
        println!("    {}", subject.name);
        let sections: Vec<String> =
            output(Command::new(&peers.ours[&subject.name]).arg("--sections"))?
                .lines()
                .map(str::to_string)
                .collect();
        let mut samples: BTreeMap<&str, std::result::Result<Samples, String>> = LOADERS
            .iter()
            .map(|l| (*l, Ok(Samples::default())))
            .collect();
        let mut done = 0;
        while done < runs {
            let n = round.min(runs - done);
            for loader in LOADERS {
                let Some(Ok(s)) = samples.get_mut(loader) else {
                    continue;
                };
                let dir = bpffs.join(format!("{}-{loader}", subject.name));
                fs::create_dir_all(&dir)?;
                let outcome = command(loader, subject, &peers, &sections, &dir, n)
                    .and_then(|mut cmd| output(&mut cmd).map_err(|e| format!("{e:#}")));
                // Whatever the loader did, nothing may stay pinned.
                let left: Vec<String> = fs::read_dir(&dir)?
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                for name in &left {
                    let _ = fs::remove_file(dir.join(name));
                }
                fs::remove_dir(&dir)?;
                match outcome {
                    Ok(text) if left.is_empty() => parse(&text, s),
                    Ok(_) => {
                        samples
                            .insert(loader, Err(format!("left pins behind: {}", left.join(" "))));
                    }
                    Err(e) => {
                        samples.insert(loader, Err(e));
                    }
                }
            }
            done += n;
        }
        let row = samples
            .into_iter()
            .map(|(loader, s)| {
                let m = s.and_then(|s| {
                    Ok(Measured {
                        load: Stats::of(&s.load).ok_or("no runs")?,
                        free: Stats::of(&s.free).ok_or("no runs")?,
                        attached: s.attached,
                        syscalls: Stats::of(&s.kernel).map(|k| (k, s.calls)),
                        own: Stats::of(&s.own),
                    })
                });
                (loader, m)
            })
            .collect();
        results.insert(subject.name.clone(), row);
    }
    Ok(results)
}

/// A cell of the load table.
pub fn load_cell(m: &std::result::Result<Measured, String>) -> Cell {
    m.as_ref().map(|m| m.load).map_err(Clone::clone)
}
