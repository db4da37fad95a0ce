//! The scenarios: one shell script each in `tests/vm/<name>.sh`, whose header says
//! what the harness does around it:
//!
//! ```text
//! # kernels: all | stock | preload | preload-sanitizer | stock since 6.6 | release 6.1.
//! # modules: permanent examples/iterators, installed unloadable examples/mkdir_guard
//! # cmdline: bpf_preload_list=bpf_preload,iterators
//! # host-check: signer
//! # prepare: dkms
//! # include: lib/tamper-routes.sh
//! # timeout: 3600
//! ```
//!
//! `kernels` is required; the others are optional. `preload` is both builds of the
//! preload kernel (plain and sanitizer), `preload-sanitizer` the sanitizer's only.
//! `timeout` (seconds) is for a scenario that runs longer than the harness's
//! `--timeout` allows (times the kernel's factor); the longer of the two applies. A module is `[installed]
//! permanent|unloadable|signed <crate directory>`. `host-check` and `prepare` name
//! Rust hooks ([`host_check`], [`prepare`]) for what cannot happen inside the VM;
//! `include` puts a file of `tests/vm/` (functions several scenarios share) before
//! the script.
//! `prelude.sh` and `init.sh` there are the harness's own, not scenarios.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::{distro, packages, params_boot, signing, userflow, Kernel, Prepared};

/// The kernels a scenario runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kernels {
    /// Every kernel: the stock profile's behaviour, which the preload kernel keeps
    /// (with its objects in `<mount>/<object>/` instead of at the root).
    All,
    /// Only the preload kernel (`seed`, the old name, too), either build of it.
    Preload,
    /// Only the preload-sanitizer kernel: checks that need its KASAN, kmemleak or
    /// fault injection (`/proc/self/fail-nth`).
    PreloadSanitizer,
    /// Debian's stock kernels (their configuration, e.g. CONFIG_KEYS for kfuncs).
    Stock,
    /// Debian's stock kernels from this release on (for kfuncs of newer kernels).
    StockSince(u32, u32),
    /// Only the stock kernel whose release starts with this.
    Release(String),
}

impl Kernels {
    fn parse(text: &str) -> Result<Self> {
        let words: Vec<&str> = text.split_whitespace().collect();
        Ok(match words[..] {
            ["all"] => Self::All,
            ["preload" | "seed"] => Self::Preload,
            ["preload-sanitizer"] => Self::PreloadSanitizer,
            ["stock"] => Self::Stock,
            ["stock", "since", version] => {
                let (major, minor) = version
                    .split_once('.')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                    .with_context(|| format!("`{version}` is not a MAJOR.MINOR version"))?;
                Self::StockSince(major, minor)
            }
            ["release", prefix] => Self::Release(prefix.to_string()),
            _ => bail!(
                "`{text}` is none of: all, stock, preload, preload-sanitizer, \
                 stock since MAJOR.MINOR, release PREFIX"
            ),
        })
    }

    /// Whether a scenario for these kernels runs on `kernel`.
    pub fn include(&self, kernel: &Kernel) -> bool {
        match self {
            Self::All => true,
            Self::Preload => kernel.is_preload(),
            Self::PreloadSanitizer => kernel.sanitizer,
            Self::Stock => !kernel.is_preload(),
            Self::StockSince(major, minor) => {
                !kernel.is_preload() && kernel.version() >= (*major, *minor)
            }
            Self::Release(prefix) => !kernel.is_preload() && kernel.release.starts_with(prefix),
        }
    }
}

/// What a module is built from and how: (crate directory, unloadable, signed,
/// foreign layout).
pub type BuildKey = (String, bool, bool, bool);

/// A module a scenario needs, from a crate (an example, or a fixture).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModuleSpec {
    pub example: String,
    pub unloadable: bool,
    /// Signed: with the preload kernel's own key there, which it trusts; with the test
    /// key (`target/vm/signing/`) on stock kernels, which do not.
    pub signed: bool,
    /// In `/lib/modules/<release>/extra/` with `depmod`, where the preload kernel's
    /// `request_module()` finds it, instead of `/modules/`.
    pub installed: bool,
    /// Unloadable, with a table that claims a layout the runtime does not read.
    pub foreign_layout: bool,
}

impl ModuleSpec {
    /// `[installed] permanent|unloadable|signed|foreign-layout <crate>`.
    fn parse(text: &str) -> Result<Self> {
        let mut words = text.split_whitespace().peekable();
        let installed = words.next_if_eq(&"installed").is_some();
        let grammar = "[installed] permanent|unloadable|signed|foreign-layout <crate>";
        let (variant, example) = match (words.next(), words.next(), words.next()) {
            (Some(variant), Some(example), None) => (variant, example),
            _ => bail!("`{text}` is not `{grammar}`"),
        };
        let (unloadable, signed, foreign_layout) = match variant {
            "permanent" => (false, false, false),
            "unloadable" => (true, false, false),
            "signed" => (false, true, false),
            "foreign-layout" => (true, false, true),
            _ => bail!("`{variant}` is not permanent, unloadable, signed or foreign-layout"),
        };
        Ok(Self {
            example: example.to_string(),
            unloadable,
            signed,
            installed,
            foreign_layout,
        })
    }

    pub fn variant(&self) -> &'static str {
        match (self.unloadable, self.signed) {
            _ if self.foreign_layout => "foreign-layout",
            (_, true) => "signed",
            (true, false) => "unloadable",
            (false, false) => "permanent",
        }
    }

    /// What is built: where the module goes does not matter.
    pub fn build_key(&self) -> BuildKey {
        (
            self.example.clone(),
            self.unloadable,
            self.signed,
            self.foreign_layout,
        )
    }

    /// Where the module is inside the VM.
    pub fn dest(&self, file: &str, release: &str) -> String {
        match self.variant() {
            _ if self.installed => format!("lib/modules/{release}/extra/{file}"),
            "permanent" => format!("modules/{file}"),
            variant => format!("modules/{variant}/{file}"),
        }
    }
}

/// A check on the host of the modules a scenario built for a kernel, before boot.
pub type HostCheck = fn(&Kernel, &[(ModuleSpec, PathBuf)]) -> Result<String>;

/// Work on the host before a scenario boots on a kernel (`work` is its directory):
/// files for the initramfs, or a boot of its own (a Debian initramfs and root disk).
pub type Prepare = fn(&Kernel, &Path) -> Result<Prepared>;

/// The host checks a header can name.
fn host_check(name: &str) -> Result<HostCheck> {
    Ok(match name {
        "signer" => signer,
        _ => bail!("no host check `{name}`; there is: signer"),
    })
}

/// `signer`: each signed module names the key it was signed with.
fn signer(kernel: &Kernel, modules: &[(ModuleSpec, PathBuf)]) -> Result<String> {
    let signed = modules.iter().filter(|(spec, _)| spec.signed);
    signing::check_signer(kernel, signed.map(|(_, ko)| ko.as_path()))
}

/// The prepare hooks a header can name.
fn prepare(name: &str) -> Result<Prepare> {
    Ok(match name {
        "new-crate" => userflow::new_crate_module,
        "dkms" => userflow::dkms_module,
        "modules-load" => userflow::modules_load_boot,
        "initramfs" => userflow::initramfs_boot,
        "initramfs-params" => params_boot::initramfs_params_boot,
        "deb" => packages::deb_boot,
        "conntrack" => distro::conntrack,
        "insmod-time" => insmod_time,
        _ => bail!(
            "no prepare hook `{name}`; there are: new-crate, dkms, modules-load, initramfs, \
             initramfs-params, deb, conntrack, insmod-time"
        ),
    })
}

/// The bench's `insmod_time` (finit_module timed), for `tamper-cost`.
fn insmod_time(_: &Kernel, work: &Path) -> Result<Prepared> {
    let built = preload_bench::build_insmod_time(work)?;
    Ok(Prepared {
        files: vec![(built, "bin/insmod_time".into())],
        ..Default::default()
    })
}

/// One scenario: modules to build, and a script run as root inside the VM with
/// bpffs not yet mounted, after `tests/vm/prelude.sh`. Modules are at
/// /modules/<name>.ko (permanent), /modules/unloadable/<name>.ko and
/// /modules/signed/<name>.ko, or installed in /lib/modules; `preload-probe`
/// (tests/probe.rs) asks the kernel about BPF objects.
pub struct Scenario {
    pub name: String,
    pub kernels: Kernels,
    /// Extra kernel command line, instead of the kernel's default.
    pub cmdline: Option<String>,
    pub modules: Vec<ModuleSpec>,
    pub script: String,
    pub host_check: Option<HostCheck>,
    pub prepare: Option<Prepare>,
    /// The header's `timeout`, for a scenario longer than the harness's default.
    pub timeout: Option<Duration>,
}

impl Scenario {
    /// A scenario from its script, named `name`.
    fn parse(name: &str, script: String) -> Result<Self> {
        let mut scenario = Scenario {
            name: name.to_string(),
            kernels: Kernels::All,
            cmdline: None,
            modules: Vec::new(),
            script: String::new(),
            host_check: None,
            prepare: None,
            timeout: None,
        };
        let mut kernels = None;
        let mut included = String::new();
        // The header: the first comment lines (after a `#!` line).
        for line in script
            .lines()
            .skip_while(|l| l.starts_with("#!"))
            .take_while(|l| l.starts_with('#'))
        {
            let Some((key, value)) = line.trim_start_matches('#').trim().split_once(": ") else {
                continue;
            };
            let value = value.trim();
            match key {
                "kernels" => kernels = Some(Kernels::parse(value)?),
                "modules" => {
                    for module in value.split(',') {
                        scenario.modules.push(ModuleSpec::parse(module)?);
                    }
                }
                "cmdline" => scenario.cmdline = Some(value.to_string()),
                "host-check" => scenario.host_check = Some(host_check(value)?),
                "prepare" => scenario.prepare = Some(prepare(value)?),
                "timeout" => {
                    let seconds = value.parse().with_context(|| {
                        format!("`timeout: {value}` is not a number of seconds")
                    })?;
                    scenario.timeout = Some(Duration::from_secs(seconds));
                }
                "include" => {
                    included.push_str(&super::harness_file(value)?);
                    included.push('\n');
                }
                _ => {}
            }
        }
        scenario.kernels = kernels.context("the header has no `# kernels:` line")?;
        scenario.script = included + &script;
        Ok(scenario)
    }
}

/// The harness's own scripts in `tests/vm/`, which are no scenarios.
const HARNESS: &[&str] = &["prelude.sh", "init.sh"];

/// Every scenario, by name.
pub fn all() -> Result<Vec<Scenario>> {
    let mut scenarios = Vec::new();
    for path in scripts()? {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if HARNESS.contains(&&*name) {
            continue;
        }
        let script =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let name = name.trim_end_matches(".sh");
        scenarios.push(
            Scenario::parse(name, script)
                .with_context(|| format!("the scenario {}", path.display()))?,
        );
    }
    Ok(scenarios)
}

/// `tests/vm/*.sh`, sorted: every scenario and the harness's own scripts.
pub fn scripts() -> Result<Vec<PathBuf>> {
    let dir = super::harness_dir();
    let mut scripts = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sh") {
            scripts.push(path);
        }
    }
    scripts.sort();
    Ok(scripts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_header() {
        let script = "#!/bin/sh\n# What it does.\n# kernels: stock since 6.6\n\
                      # modules: permanent examples/a, installed signed examples/b\n\
                      # cmdline: x=1 y\n# prepare: dkms\n# timeout: 600\n\
                      load /modules/a.ko\n# kernels: seed\n";
        let s = Scenario::parse("t", script.into()).unwrap();
        assert_eq!(s.kernels, Kernels::StockSince(6, 6));
        assert_eq!(s.cmdline.as_deref(), Some("x=1 y"));
        assert_eq!(s.modules.len(), 2);
        assert_eq!(s.modules[1].example, "examples/b");
        assert!(s.modules[1].signed && s.modules[1].installed && !s.modules[0].installed);
        assert!(s.prepare.is_some() && s.host_check.is_none());
        assert_eq!(s.timeout, Some(Duration::from_secs(600)));
        let s = Scenario::parse("t", "# kernels: preload-sanitizer\n".into()).unwrap();
        assert_eq!(s.kernels, Kernels::PreloadSanitizer);
    }

    #[test]
    fn refuses_a_header_without_kernels_or_with_an_unknown_hook() {
        assert!(Scenario::parse("t", "# modules: permanent a\n".into()).is_err());
        assert!(Scenario::parse("t", "# kernels: all\n# prepare: nothing\n".into()).is_err());
        assert!(Scenario::parse("t", "# kernels: some\n".into()).is_err());
    }

    #[test]
    fn every_scenario_file_parses() {
        let scenarios = all().unwrap();
        assert!(scenarios.iter().any(|s| s.name == "iterators"));
    }
}
