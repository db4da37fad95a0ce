//! Kernel build directories (the headers a module is built against): their release,
//! their configuration, and the code-generation flags Rust code in that kernel needs.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};

/// A kernel build directory: Debian's `/usr/src/linux-headers-<release>`, the
/// running kernel's `/lib/modules/<release>/build`, or a kernel tree.
#[derive(Debug, Clone)]
pub struct KernelTree {
    /// The directory.
    pub dir: PathBuf,
    /// `UTS_RELEASE`: what `uname -r` says, what vermagic checks and where modules go
    /// (`/lib/modules/<release>/`).
    pub release: String,
    config: BTreeMap<String, String>,
}

impl KernelTree {
    /// Reads the release and configuration of the build directory `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let uts = dir.join("include/generated/utsrelease.h");
        let uts = fs::read_to_string(&uts).with_context(|| {
            format!(
                "{} is not a prepared kernel build directory (no {}): install the headers, e.g. \
                 `apt-get install linux-headers-amd64`",
                dir.display(),
                uts.display()
            )
        })?;
        // Not include/config/kernel.release: Debian's 6.1 headers say "6.1.192" there,
        // while the kernel (and vermagic) says "6.1.0-56-amd64".
        let release = uts
            .split('"')
            .nth(1)
            .with_context(|| format!("no UTS_RELEASE in {}", dir.display()))?
            .to_string();
        let text = fs::read_to_string(dir.join("include/config/auto.conf"))
            .or_else(|_| fs::read_to_string(dir.join(".config")))
            .with_context(|| {
                format!(
                    "no kernel configuration in {} (include/config/auto.conf or .config)",
                    dir.display()
                )
            })?;
        let config = text
            .lines()
            .filter(|l| l.starts_with("CONFIG_"))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            release,
            config,
        })
    }

    /// The kernel's configuration as `/proc/config.gz` gives it, for Kconfig externs:
    /// `.config` (`include/config/auto.conf` leaves some strings unquoted).
    pub fn config_file(&self) -> PathBuf {
        let dot_config = self.dir.join(".config");
        if dot_config.exists() {
            dot_config
        } else {
            self.dir.join("include/config/auto.conf")
        }
    }

    /// The kernel has the preload series (`kernel/` of bpf-preload): its build tree has
    /// the series' public header, which is what the shim tests for
    /// (`__has_include(<linux/bpf_preload.h>)`).
    pub fn is_preload(&self) -> bool {
        self.dir.join("include/linux/bpf_preload.h").exists()
    }

    /// Whether `CONFIG_<option>` is `y`.
    pub fn has(&self, option: &str) -> bool {
        self.config.get(option).is_some_and(|v| v == "y")
    }

    /// The value of a configuration option, without quotes.
    pub fn value(&self, option: &str) -> Option<&str> {
        self.config.get(option).map(String::as_str)
    }

    /// The hash modules are signed with (`CONFIG_MODULE_SIG_HASH`).
    pub fn signature_hash(&self) -> &str {
        self.value("CONFIG_MODULE_SIG_HASH").unwrap_or("sha256")
    }

    /// The code-generation flags Rust code in this kernel needs: what the kernel's
    /// own Makefiles give its Rust code (arch/x86/Makefile in 6.12), for the options
    /// this kernel has.
    pub fn codegen(&self) -> Result<Codegen> {
        ensure!(
            self.has("CONFIG_X86_64"),
            "{} is not an x86_64 kernel: only x86_64 is supported",
            self.dir.display()
        );
        ensure!(
            !self.has("CONFIG_CFI_CLANG"),
            "{} has CONFIG_CFI_CLANG, which needs kCFI type hashes in Rust code \
             (-Zsanitizer=kcfi): not supported yet",
            self.dir.display()
        );
        let padding = if self.has("CONFIG_CALL_PADDING") {
            let bytes = self.value("CONFIG_FUNCTION_PADDING_BYTES").unwrap_or("16");
            Some(bytes.parse().with_context(|| {
                format!(
                    "CONFIG_FUNCTION_PADDING_BYTES={bytes} in {} is not a number",
                    self.dir.display()
                )
            })?)
        } else {
            None
        };
        Ok(Codegen {
            retpoline: self.has("CONFIG_RETPOLINE") || self.has("CONFIG_MITIGATION_RETPOLINE"),
            rethunk: self.has("CONFIG_RETHUNK") || self.has("CONFIG_MITIGATION_RETHUNK"),
            ibt: self.has("CONFIG_X86_KERNEL_IBT"),
            padding,
            frame_pointer: self.has("CONFIG_FRAME_POINTER"),
        })
    }

    /// Symbols the kernel exports to modules, from its `Module.symvers`, sorted.
    pub fn exports(&self) -> Result<Vec<String>> {
        let path = self.dir.join("Module.symvers");
        let text = fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {}: these are not complete headers for building modules; install \
                 linux-headers-{}",
                path.display(),
                self.release
            )
        })?;
        let mut names: Vec<String> = text
            .lines()
            .filter_map(|l| l.split('\t').nth(1).map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }
}

/// The kernel configuration Rust code depends on, and nothing else: the Rust part of
/// a module does not include kernel headers, so one object serves every kernel with
/// the same flags. Its [`Display`](fmt::Display) is the flag set's name, as the
/// DKMS tree's Kbuild computes it from `CONFIG_*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Codegen {
    /// `CONFIG_(MITIGATION_)RETPOLINE`: indirect calls through the kernel's thunks.
    pub retpoline: bool,
    /// `CONFIG_(MITIGATION_)RETHUNK`: `ret` through `__x86_return_thunk`.
    pub rethunk: bool,
    /// `CONFIG_X86_KERNEL_IBT`: ENDBR at indirect branch targets.
    pub ibt: bool,
    /// `CONFIG_CALL_PADDING`: this many bytes of padding before every function.
    pub padding: Option<u32>,
    /// `CONFIG_FRAME_POINTER`.
    pub frame_pointer: bool,
}

impl Codegen {
    /// rustc flags for code in a kernel with these options.
    pub fn rustflags(&self) -> Vec<String> {
        let mut flags: Vec<String> = [
            // x86_64-unknown-none defaults to PIE, whose calls and data accesses go through
            // the GOT: R_X86_64_(REX_)GOTPCREL(X), which the module loader rejects.
            "-Crelocation-model=static",
            "-Zplt=yes",
            // The target already has code-model=kernel, no red zone and soft-float
            // without SSE/AVX; said again so the flags are complete on their own.
            "-Ccode-model=kernel",
            "-Cno-redzone=yes",
            "-Cforce-unwind-tables=no",
            "-Zfunction-sections=no",
        ]
        .map(String::from)
        .to_vec();
        if self.retpoline {
            // Indirect calls through the kernel's __x86_indirect_thunk_<reg>.
            flags.push("-Zretpoline-external-thunk".into());
        }
        if self.rethunk {
            // `ret` becomes `jmp __x86_return_thunk`; objtool --rethunk checks it. With
            // no bare ret and no indirect jmp left, SLS hardening has nothing to add.
            flags.push("-Zfunction-return=thunk-extern".into());
        }
        if self.ibt {
            // ENDBR at every indirect branch target (objtool --ibt warns "relocation to
            // !ENDBR" otherwise, and IBT hardware would fault), no NOTRACK jump tables.
            flags.push("-Zcf-protection=branch".into());
            flags.push("-Cjump-tables=no".into());
        }
        if let Some(n) = self.padding {
            // The padding call-depth tracking and FineIBT patch in front of functions.
            flags.push(format!("-Zpatchable-function-entry={n},{n}"));
        }
        if self.frame_pointer {
            flags.push("-Cforce-frame-pointers=yes".into());
        }
        flags
    }
}

impl fmt::Display for Codegen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("rust")?;
        if self.retpoline {
            f.write_str("-retpoline")?;
        }
        if self.rethunk {
            f.write_str("-rethunk")?;
        }
        if self.ibt {
            f.write_str("-ibt")?;
        }
        if let Some(n) = self.padding {
            write!(f, "-pad{n}")?;
        }
        if self.frame_pointer {
            f.write_str("-fp")?;
        }
        Ok(())
    }
}

/// The running kernel's release (`uname -r`).
pub fn running_release() -> Result<String> {
    let text = fs::read_to_string("/proc/sys/kernel/osrelease")
        .context("reading /proc/sys/kernel/osrelease")?;
    Ok(text.trim().to_string())
}

/// Complete kernel headers installed in `/usr/src` (Debian's
/// `linux-headers-<release>`), oldest first.
pub fn installed_headers() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir("/usr/src")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("linux-headers-"))
                && p.join("Module.symvers").exists()
        })
        .collect();
    dirs.sort_by_key(|d| version_key(d));
    dirs
}

/// `--kdir`, else the running kernel's build directory, else the newest headers in
/// `/usr/src`; with the reason, for the user.
pub fn find_kdir(kdir: Option<&Path>) -> Result<(PathBuf, String)> {
    if let Some(dir) = kdir {
        return Ok((dir.to_path_buf(), "--kdir".into()));
    }
    let running = running_release()?;
    let build = PathBuf::from(format!("/lib/modules/{running}/build"));
    if build.join("Module.symvers").exists() {
        return Ok((build, "the running kernel's".into()));
    }
    let Some(newest) = installed_headers().pop() else {
        bail!(
            "no kernel headers: /lib/modules/{running}/build does not exist and there is no \
             /usr/src/linux-headers-*; install some, e.g. `apt-get install linux-headers-amd64` \
             (Debian 12's 6.1) or `apt-get install linux-headers-6.12-amd64`, or pass --kdir"
        );
    };
    Ok((
        newest,
        format!("the newest in /usr/src; /lib/modules/{running}/build does not exist"),
    ))
}

/// Orders `linux-headers-6.12.117+deb12-amd64` after `linux-headers-6.1.0-56-amd64`.
pub fn version_key(path: &Path) -> Vec<u64> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_set_names() {
        let debian_6_1 = Codegen {
            retpoline: true,
            rethunk: true,
            ibt: false,
            padding: None,
            frame_pointer: false,
        };
        let debian_6_12 = Codegen {
            ibt: true,
            padding: Some(16),
            ..debian_6_1
        };
        assert_eq!(debian_6_1.to_string(), "rust-retpoline-rethunk");
        assert_eq!(debian_6_12.to_string(), "rust-retpoline-rethunk-ibt-pad16");
        assert!(debian_6_12
            .rustflags()
            .contains(&"-Zpatchable-function-entry=16,16".to_string()));
    }

    #[test]
    fn versions_order() {
        let mut dirs = [
            PathBuf::from("/usr/src/linux-headers-6.12.117+deb12-amd64"),
            PathBuf::from("/usr/src/linux-headers-6.1.0-57-amd64"),
        ];
        dirs.sort_by_key(|d| version_key(d));
        assert!(dirs[0].to_string_lossy().contains("6.1.0"));
    }
}
