//! Section 6, boot: kernel start → policy active, for each way a module reaches every
//! boot, from one run of the VM scenarios that boot them (`tests/vm/`, with the hooks
//! of `xtask/src/vm/userflow.rs`): Debian's initramfs (initramfs-tools),
//! systemd-modules-load (modules-load.d), and the preload kernel's preload list. Each reads the kernel log's timestamp of the
//! module's "loaded"/"registered" message, after checking that the policy refuses.

use anyhow::{Context, Result};

use crate::vm::Vm;

/// One path: scenario, how the module is loaded, the kernel, seconds after kernel
/// start, and the scenario's own words.
pub struct Row {
    pub scenario: String,
    pub path: &'static str,
    pub release: String,
    pub seconds: f64,
    /// Seconds after `/init` started (the kernel's "Run /init as init process"), where
    /// the scenario measures it (Debian's initramfs).
    pub after_init: Option<f64>,
    pub detail: String,
}

/// The scenarios, in the order of the table, with what loads the module.
const PATHS: [(&str, &str); 3] = [
    (
        "initramfs",
        "Debian's initramfs (`install --initramfs`: init-top, before udev)",
    ),
    (
        "modules-load",
        "systemd-modules-load (`install`, /etc/modules-load.d)",
    ),
    (
        "preload-boot",
        "the preload kernel's preload list (request_module)",
    ),
];

/// One VM at a time, so that the boots do not slow each other down.
pub fn run(vm: &dyn Vm) -> Result<Vec<Row>> {
    let scenarios: Vec<&str> = PATHS.iter().map(|(s, _)| *s).collect();
    // Debian's 6.1 and 6.12 for the stock paths, so that the preload kernel's row
    // (6.12) has a stock row of its own version beside it.
    let cells = vm.scenarios(&scenarios, &["6.1.", "6.12.", "bpf-preload"], 1, 300)?;
    let mut rows = Vec::new();
    for (scenario, path) in PATHS {
        let runs: Vec<_> = cells.iter().filter(|c| c.0 == scenario).collect();
        anyhow::ensure!(!runs.is_empty(), "scenario {scenario} did not run");
        for (_, release, detail) in runs {
            // "... at 24.397794 s after kernel start ..."
            let seconds = detail
                .split(" s after kernel start")
                .next()
                .and_then(|head| head.rsplit(' ').next())
                .and_then(|n| n.parse().ok())
                .with_context(|| format!("{scenario}: no time in {detail:?}"))?;
            // "..., 0.834120 s after /init start ..."
            let after_init = detail
                .split(" s after /init start")
                .next()
                .filter(|head| head.len() < detail.len())
                .and_then(|head| head.rsplit(' ').next())
                .and_then(|n| n.parse().ok());
            rows.push(Row {
                scenario: scenario.to_string(),
                path,
                release: release.clone(),
                seconds,
                after_init,
                detail: detail.clone(),
            });
        }
    }
    Ok(rows)
}
