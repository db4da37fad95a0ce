//! The tamper matrix: root in user space against a preloaded LSM policy and its
//! iterators, unprotected, with `freeze_all` only and with `protect` + `freeze_all`, on
//! every kernel, and held by a process. The scenarios are
//! `tests/vm/tamper-{open,frozen,locked,user}.sh`; each route prints
//! `ROW <route> <open|frozen|locked|user> <cell>`, which `cargo xtask tamper-matrix`
//! tabulates from the logs the last `vm-test` left in `target/vm/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{ensure, Result};

use crate::setup::root;
use crate::vm::{Kernel, Prepared};

/// The bench's `insmod_time`, for `tamper-cost`.
pub fn insmod_time(_: &Kernel, work: &Path) -> Result<Prepared> {
    let built = preload_bench::build_insmod_time(work)?;
    Ok(Prepared {
        files: vec![(built, "bin/insmod_time".into())],
        ..Default::default()
    })
}

/// The object's configurations: the mode its scenario prints, and a column title.
/// `user` is tamper-user's: the object held by a process, with protect + freeze_all.
const MODES: [(&str, &str); 4] = [
    ("open", "unprotected"),
    ("frozen", "freeze_all"),
    ("locked", "protect+freeze"),
    ("user", "process-held, protect+freeze"),
];

/// `cargo xtask tamper-matrix`: route × kernel × configuration, as markdown.
pub fn matrix() -> Result<()> {
    // route -> kernel -> mode -> cell
    let mut rows: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut kernels: Vec<String> = Vec::new();
    let dir = root().join("target/vm");
    let mut logs: Vec<_> = fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("tamper-") && n.ends_with(".log"))
        })
        .collect();
    logs.sort();
    for log in logs {
        let name = log.file_stem().unwrap_or_default().to_string_lossy();
        let Some(kernel) = MODES
            .iter()
            .find_map(|(mode, _)| name.strip_prefix(&format!("tamper-{mode}-")))
        else {
            continue;
        };
        if !kernels.iter().any(|k| k == kernel) {
            kernels.push(kernel.to_string());
        }
        for line in fs::read_to_string(&log)?.lines() {
            let Some(at) = line.find("ROW ") else {
                continue;
            };
            let mut words = line[at + 4..].splitn(3, ' ');
            let (Some(route), Some(mode), Some(cell)) = (words.next(), words.next(), words.next())
            else {
                continue;
            };
            if !order.iter().any(|r| r == route) {
                order.push(route.to_string());
            }
            rows.entry(route.to_string())
                .or_default()
                .entry(kernel.to_string())
                .or_default()
                .insert(mode.to_string(), cell.trim().to_string());
        }
    }
    ensure!(
        !rows.is_empty(),
        "no tamper rows in {}: run `cargo xtask vm-test --scenario tamper-open --scenario \
         tamper-frozen --scenario tamper-locked` first",
        dir.display()
    );
    // Only the configurations some log has rows of.
    let modes: Vec<(&str, &str)> = MODES
        .into_iter()
        .filter(|(m, _)| {
            rows.values()
                .flat_map(|r| r.values())
                .any(|c| c.contains_key(*m))
        })
        .collect();
    print!("| route |");
    for k in &kernels {
        for (_, title) in &modes {
            print!(" {k} {title} |");
        }
    }
    println!();
    println!("|---|{}", "---|".repeat(kernels.len() * modes.len()));
    for route in &order {
        print!("| {route} |");
        for k in &kernels {
            for &(mode, _) in &modes {
                let cell = rows[route].get(k).and_then(|m| m.get(mode));
                print!(" {} |", cell.map_or("—", |c| short(c)));
            }
        }
        println!();
    }
    // What each cell stood for, from the first kernel that has the row.
    println!();
    for route in &order {
        for &(mode, _) in &modes {
            if let Some(cell) = kernels
                .iter()
                .find_map(|k| rows[route].get(k).and_then(|m| m.get(mode)))
            {
                println!("- `{route}` ({mode}): {}", cell.replace('|', "/"));
            }
        }
    }
    Ok(())
}

/// A cell's verdict in a word or two: what the route did to the object.
fn short(cell: &str) -> &'static str {
    let errno = ["EPERM", "EOPNOTSUPP", "EINVAL", "ENOENT", "EBUSY"]
        .into_iter()
        .find(|e| cell.contains(e))
        .or_else(|| {
            // What the shell says for a refused write to /proc or a module removal.
            [
                ("refused (Device or resource busy)", "EBUSY"),
                ("rmmod -f failed: rmmod: can't unload module", "EPERM"),
            ]
            .into_iter()
            .find_map(|(text, e)| cell.contains(text).then_some(e))
        });
    if cell.starts_with("TAMPERED") {
        "**TAMPERED**"
    } else if cell.starts_with("residual") {
        "residual (SECURITY.md)"
    } else if cell.starts_with("n/a") {
        "n/a"
    } else if cell.contains("names with a dot") {
        "harmless (unlinked from that mount only)"
    } else if cell.starts_with("obtained") {
        "fd obtained"
    } else if cell.contains("ok:") && !cell.contains("refused") {
        "harmless"
    } else {
        match errno {
            Some("EPERM") => "refused (EPERM)",
            Some("EOPNOTSUPP") => "refused (EOPNOTSUPP)",
            Some("EBUSY") => "refused (EBUSY)",
            Some(_) => "refused",
            None if cell.starts_with("refused") => "refused",
            None => "harmless",
        }
    }
}
