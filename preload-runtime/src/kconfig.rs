//! The values of `.kconfig` externs, from the configuration of the kernel the object
//! runs on, as libbpf computes them (`bpf_object__process_kconfig_line`,
//! `set_kcfg_value_tri`, `_str`, `_num`). An object module carries the lines of its kernel's
//! configuration that its object reads ([`options_read`], kept by its build); the user-space
//! backend reads the running kernel's (`/proc/config.gz`, else
//! `/boot/config-$(uname -r)`).

use crate::errno::Errno;
use crate::error::{Failed, Step};
use crate::table::{KconfigKind, KconfigVar, Object};

/// What the loader needs to know of the kernel for `.kconfig` externs.
#[derive(Debug, Clone, Copy)]
pub struct KernelConfig<'a> {
    /// `CONFIG_NAME=value` lines (`.config` or `auto.conf` format; others are ignored).
    pub text: &'a str,
    /// `LINUX_KERNEL_VERSION`: `KERNEL_VERSION(major, minor, patch)`.
    pub version: u32,
}

impl KernelConfig<'_> {
    /// The value of `option` (`y`, `m`, `250`, `"string"`), if the kernel has it.
    pub fn get(&self, option: &str) -> Option<&str> {
        self.text.lines().find_map(|line| {
            line.strip_prefix(option)
                .and_then(|rest| rest.strip_prefix('='))
                .filter(|v| !v.is_empty())
        })
    }
}

/// `KERNEL_VERSION(a, b, c)` from a release such as `6.1.0-57-amd64`, as libbpf's
/// `get_kernel_version` reads `uname -r`.
#[cfg(any(feature = "std", test))]
pub fn version_of_release(release: &str) -> Option<u32> {
    let mut parts = release.split(['.', '-', '+']);
    let mut next = || parts.next()?.parse::<u32>().ok();
    let (major, minor) = (next()?, next()?);
    let patch = next().unwrap_or(0);
    Some((major << 16) + (minor << 8) + patch.min(255))
}

fn parse_u64(value: &str) -> Option<u64> {
    let (digits, radix) = if let Some(hex) = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        (hex, 16)
    } else if value.len() > 1 && value.starts_with('0') {
        (&value[1..], 8)
    } else {
        (value, 10)
    };
    if let Some(negative) = digits.strip_prefix('-') {
        // strtoull accepts a sign and wraps.
        return u64::from_str_radix(negative, radix)
            .ok()
            .map(|v| v.wrapping_neg());
    }
    u64::from_str_radix(digits, radix).ok()
}

fn in_range(var: &KconfigVar, v: u64, signed: bool) -> bool {
    let bits = var.size * 8;
    if bits >= 64 {
        return true;
    }
    if signed {
        v.wrapping_add(1 << (bits - 1)) < (1 << bits)
    } else {
        v >> bits == 0
    }
}

fn set_num(var: &KconfigVar, out: &mut [u8], value: u64) -> Result<(), Errno> {
    let signed = match var.kind {
        KconfigKind::Int { signed } => signed,
        KconfigKind::Char => false,
        KconfigKind::Bool if value <= 1 => false,
        _ => return Err(Errno::EINVAL),
    };
    if !in_range(var, value, signed) {
        return Err(Errno::ERANGE);
    }
    let bytes = value.to_le_bytes();
    out.copy_from_slice(bytes.get(..out.len()).ok_or(Errno::EINVAL)?);
    Ok(())
}

/// `out` is `bytes`, if it is as long.
fn set_bytes(out: &mut [u8], bytes: &[u8]) -> Result<(), Errno> {
    if out.len() != bytes.len() {
        return Err(Errno::EINVAL);
    }
    out.copy_from_slice(bytes);
    Ok(())
}

/// `out`'s first byte is `byte` (a `bool` or `char` slot), if it has one.
fn set_first(out: &mut [u8], byte: u8) -> Result<(), Errno> {
    *out.first_mut().ok_or(Errno::EINVAL)? = byte;
    Ok(())
}

/// Writes one extern's value into `out`, its slot in the map value.
fn set(var: &KconfigVar, out: &mut [u8], value: &str) -> Result<(), Errno> {
    match value.as_bytes().first() {
        Some(&c @ (b'y' | b'n' | b'm')) => match var.kind {
            KconfigKind::Bool if c == b'm' => Err(Errno::EINVAL),
            // The slot's size is the table's: one that does not fit the kind is an
            // error, not an index out of bounds.
            KconfigKind::Bool => set_first(out, u8::from(c == b'y')),
            KconfigKind::Tristate => {
                let v: u32 = match c {
                    b'y' => 1,
                    b'm' => 2,
                    _ => 0,
                };
                set_bytes(out, &v.to_le_bytes())
            }
            KconfigKind::Char => set_first(out, c),
            _ => Err(Errno::EINVAL),
        },
        Some(b'"') => {
            if var.kind != KconfigKind::CharArray {
                return Err(Errno::EINVAL);
            }
            let inner = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or(Errno::EINVAL)?;
            // Too long: truncated, as libbpf does (with a warning).
            let n = inner.len().min(out.len().saturating_sub(1));
            out[..n].copy_from_slice(&inner.as_bytes()[..n]);
            out[n..].fill(0);
            Ok(())
        }
        _ => {
            if !matches!(var.kind, KconfigKind::Int { .. } | KconfigKind::Char) {
                return Err(Errno::EINVAL);
            }
            set_num(var, out, parse_u64(value).ok_or(Errno::EINVAL)?)
        }
    }
}

/// The `.kconfig` map's value: every extern of `vars` read from `config`. On
/// failure, the extern and why (`ESRCH`: a strong extern the kernel lacks; `EINVAL`
/// or `ERANGE`: a value its type cannot hold).
pub fn fill(
    vars: &[KconfigVar],
    config: &KernelConfig<'_>,
    value: &mut [u8],
) -> Result<(), Failed> {
    for var in vars {
        let failed = |errno| {
            Step::SetKconfig {
                name: var.name.as_str(),
            }
            .failed(errno)
        };
        let start = var.offset as usize;
        let out = start
            .checked_add(var.size as usize)
            .and_then(|end| value.get_mut(start..end))
            .ok_or_else(|| failed(Errno::EINVAL))?;
        let result = match var.name.as_str() {
            "LINUX_KERNEL_VERSION" => set_num(var, out, u64::from(config.version)),
            // Every kernel the loader supports (6.1 and later) has BPF cookies.
            "LINUX_HAS_BPF_COOKIE" => set_num(var, out, 1),
            "LINUX_HAS_SYSCALL_WRAPPER" => {
                let wrapped = config.get("CONFIG_ARCH_HAS_SYSCALL_WRAPPER") == Some("y");
                set_num(var, out, u64::from(wrapped))
            }
            name => match config.get(name) {
                Some(v) => set(var, out, v),
                // Absent (`# CONFIG_X is not set`): a weak extern stays 0, a strong
                // one fails the load, as with libbpf.
                None if var.weak => Ok(()),
                None => Err(Errno::ESRCH),
            },
        };
        result.map_err(failed)?;
    }
    Ok(())
}

/// The options of the kernel's configuration that `object` reads: its `CONFIG_*`
/// externs, and `CONFIG_ARCH_HAS_SYSCALL_WRAPPER` for `LINUX_HAS_SYSCALL_WRAPPER`.
/// An object module's build keeps only these lines of the kernel's
/// `include/config/auto.conf`.
pub fn options_read(object: &Object) -> impl Iterator<Item = &'static str> + '_ {
    object
        .maps
        .iter()
        .flat_map(|m| m.kconfig.iter())
        .filter_map(|v| match v.name.as_str() {
            "LINUX_HAS_SYSCALL_WRAPPER" => Some("CONFIG_ARCH_HAS_SYSCALL_WRAPPER"),
            name if name.starts_with("CONFIG_") => Some(name),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(
        name: &'static str,
        kind: KconfigKind,
        offset: u32,
        size: u32,
        weak: bool,
    ) -> KconfigVar {
        KconfigVar {
            name: crate::table::Str::new(name),
            offset,
            size,
            kind,
            weak,
        }
    }

    #[test]
    fn values_as_libbpf_reads_them() {
        let config = KernelConfig {
            text: "CONFIG_BPF=y\nCONFIG_MOD=m\n# CONFIG_NO is not set\nCONFIG_HZ=250\n\
                   CONFIG_HEX=0x1f\nCONFIG_NEG=-3\nCONFIG_S=\"hello\"\n",
            version: 0x060100,
        };
        let vars = [
            var("CONFIG_BPF", KconfigKind::Bool, 0, 1, false),
            var("CONFIG_MOD", KconfigKind::Tristate, 4, 4, false),
            var("CONFIG_HZ", KconfigKind::Int { signed: false }, 8, 4, false),
            var(
                "CONFIG_HEX",
                KconfigKind::Int { signed: false },
                12,
                2,
                false,
            ),
            var(
                "CONFIG_NEG",
                KconfigKind::Int { signed: true },
                16,
                4,
                false,
            ),
            var("CONFIG_S", KconfigKind::CharArray, 20, 4, false),
            var("CONFIG_NO", KconfigKind::Bool, 24, 1, true),
            var(
                "LINUX_KERNEL_VERSION",
                KconfigKind::Int { signed: false },
                28,
                4,
                false,
            ),
        ];
        let mut value = [0xaau8; 32];
        fill(&vars, &config, &mut value).unwrap();
        assert_eq!(value[0], 1);
        assert_eq!(&value[4..8], &2u32.to_le_bytes());
        assert_eq!(&value[8..12], &250u32.to_le_bytes());
        assert_eq!(&value[12..14], &0x1fu16.to_le_bytes());
        assert_eq!(&value[16..20], &(-3i32).to_le_bytes());
        assert_eq!(&value[20..24], b"hel\0");
        assert_eq!(
            value[24], 0xaa,
            "a weak extern the kernel lacks is left as it was (0)"
        );
        assert_eq!(&value[28..32], &0x060100u32.to_le_bytes());
    }

    #[test]
    fn refusals() {
        let config = KernelConfig {
            text: "CONFIG_MOD=m\nCONFIG_BIG=300\n",
            version: 0,
        };
        let mut value = [0u8; 8];
        let bool_m = [var("CONFIG_MOD", KconfigKind::Bool, 0, 1, false)];
        assert_eq!(
            fill(&bool_m, &config, &mut value),
            Err(Step::SetKconfig { name: "CONFIG_MOD" }.failed(Errno::EINVAL))
        );
        let too_big = [var(
            "CONFIG_BIG",
            KconfigKind::Int { signed: false },
            0,
            1,
            false,
        )];
        assert_eq!(
            fill(&too_big, &config, &mut value),
            Err(Step::SetKconfig { name: "CONFIG_BIG" }.failed(Errno::ERANGE))
        );
        let missing = [var("CONFIG_GONE", KconfigKind::Bool, 0, 1, false)];
        assert_eq!(
            fill(&missing, &config, &mut value),
            Err(Step::SetKconfig {
                name: "CONFIG_GONE"
            }
            .failed(Errno::ESRCH))
        );
    }

    /// Slots that do not fit their kind, or that lie outside the value, are errors:
    /// nothing indexes out of bounds.
    #[test]
    fn slots_that_do_not_fit_are_errors() {
        let config = KernelConfig {
            text: "CONFIG_BPF=y\nCONFIG_MOD=m\nCONFIG_HZ=250\nCONFIG_S=\"s\"\n",
            version: 0x060100,
        };
        let mut value = [0u8; 8];
        let cases = [
            var("CONFIG_BPF", KconfigKind::Bool, 0, 0, false),
            var("CONFIG_BPF", KconfigKind::Char, 0, 0, false),
            var("CONFIG_MOD", KconfigKind::Tristate, 0, 2, false),
            var("CONFIG_HZ", KconfigKind::Int { signed: false }, 0, 0, false),
            var("CONFIG_HZ", KconfigKind::Int { signed: false }, 6, 4, false),
            var(
                "CONFIG_HZ",
                KconfigKind::Int { signed: false },
                u32::MAX,
                u32::MAX,
                false,
            ),
        ];
        for v in cases {
            assert!(
                fill(core::slice::from_ref(&v), &config, &mut value).is_err(),
                "{v:?}"
            );
        }
        // An empty string slot: nothing to write, not even the NUL.
        let empty = var("CONFIG_S", KconfigKind::CharArray, 0, 0, false);
        assert_eq!(fill(&[empty], &config, &mut value), Ok(()));
    }

    #[test]
    fn releases() {
        assert_eq!(version_of_release("6.1.0-57-amd64"), Some(0x060100));
        assert_eq!(version_of_release("6.12.117+deb12-amd64"), Some(0x060c75));
        assert_eq!(version_of_release("6.18.3"), Some(0x061203));
    }
}
