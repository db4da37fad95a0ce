//! Debian packages of the two DKMS trees ([`crate::dkms`]), made with Debian's own
//! tools: a `debian/` directory around each tree, then `dpkg-buildpackage -us -uc -b`
//! with debhelper and `dh-dkms` (`dh $@ --with dkms`; Debian 12's dkms has no
//! `dkms mkdeb` any more). The packages are
//!
//! - `bpf-preload-runtime-dkms`: the runtime's tree in
//!   `/usr/src/bpf-preload-runtime-<version>/`;
//! - `<name>-dkms` (the module's name with `-` for `_`): the object's tree in
//!   `/usr/src/<name>-<version>/`, depending on exactly the runtime package whose
//!   `Module.symvers` its dkms.conf names, and (unless told not to) a
//!   `/usr/lib/modules-load.d/<name>.conf`, so that systemd-modules-load loads the
//!   policy at every boot (modprobe pulls in the runtime through `modules.dep`).
//!
//! dh_dkms's maintainer scripts add, build and install each tree for the installed
//! kernels when the package is configured, and DKMS's kernel hooks
//! (`/etc/kernel/postinst.d/dkms`, `header_postinst.d/dkms`) rebuild both for every
//! kernel installed later, the runtime first (`BUILD_DEPENDS`). The directory the
//! packages go to is a flat apt repository (`Packages`, by `dpkg-scanpackages`):
//! `deb [trusted=yes] file:<dir> ./`, or copy the files into the fleet's own.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context, Result};

use crate::dkms::{Tree, Trees, RUNTIME_PACKAGE};
use crate::package::Crate;
use crate::tools::{self, fill, on_path, write_if_changed};

const CONTROL: &str = include_str!("../templates/deb/control");
const RULES: &str = include_str!("../templates/deb/rules");
const CHANGELOG: &str = include_str!("../templates/deb/changelog");
const COPYRIGHT: &str = include_str!("../templates/deb/copyright");

/// The runtime's Debian package.
pub const RUNTIME_DEB: &str = "bpf-preload-runtime-dkms";

/// How [`packages`] makes the packages.
#[derive(Debug, Clone)]
pub struct Options {
    /// The apt repository the `.deb` files go to [default: `<target>/bpf-preload/deb/`].
    pub out: Option<PathBuf>,
    /// `Name <email>` for `Maintainer` and the changelog [default: `DEBFULLNAME` and
    /// `DEBEMAIL`, as dch takes them, else the crate's first author with an address,
    /// else `<user>@<hostname>`].
    pub maintainer: Option<String>,
    /// Ship `/usr/lib/modules-load.d/<name>.conf` in the object's package.
    pub modules_load: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            out: None,
            maintainer: None,
            modules_load: true,
        }
    }
}

/// One package [`packages`] built.
#[derive(Debug, Clone)]
pub struct Deb {
    /// The package name.
    pub package: String,
    /// Its Debian version.
    pub version: String,
    /// The `.deb`, in the repository.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

/// What [`packages`] built.
#[derive(Debug, Clone)]
pub struct Debs {
    /// `bpf-preload-runtime-dkms`.
    pub runtime: Deb,
    /// `<name>-dkms`.
    pub object: Deb,
    /// The flat apt repository holding both (and whatever else was built into it).
    pub repo: PathBuf,
    /// The source directories `dpkg-buildpackage` ran in, each with its `debian/` and
    /// `build.log`.
    pub sources: Vec<PathBuf>,
}

/// The Debian packages of `trees` (made by [`crate::dkms::trees`] for `krate`),
/// built with `dpkg-buildpackage -us -uc -b` and indexed with `dpkg-scanpackages`.
pub fn packages(krate: &Crate, trees: &Trees, options: &Options) -> Result<Debs> {
    check_tools()?;
    let repo = match &options.out {
        Some(out) => out.clone(),
        None => krate.work_dir().join("deb"),
    };
    // dpkg-buildpackage writes next to the source directory; the repository gets only
    // the .deb files.
    let build = krate.work_dir().join("deb-build");
    fs::create_dir_all(&repo).with_context(|| format!("creating {}", repo.display()))?;
    let maintainer = match &options.maintainer {
        Some(m) => m.clone(),
        None => default_maintainer(&krate.authors),
    };
    ensure!(
        maintainer.contains('<') && maintainer.ends_with('>'),
        "the maintainer `{maintainer}` is not `Name <email>`, as debian/changelog needs it"
    );
    let runtime_version = debian_version(&trees.runtime.version)?;
    let flag_sets: Vec<String> = trees.shipped.iter().map(|(c, _)| c.to_string()).collect();

    let runtime = Source {
        package: RUNTIME_DEB.to_string(),
        version: runtime_version.clone(),
        tree: &trees.runtime,
        depends: String::new(),
        summary: "bpf-preload runtime kernel module (DKMS source)".into(),
        description: vec![
            "The one loader of bpf-preload's object modules, bpf_preload_runtime.ko: it \
             loads, attaches and holds the eBPF objects that object modules (packages \
             named <object>-dkms) hand it, from boot until shutdown."
                .into(),
            format!(
                "DKMS builds it for every installed kernel with the kernel's headers and \
                 gcc alone: its Rust part is prebuilt for the code-generation flag sets {}.",
                flag_sets.join(", ")
            ),
        ],
        upstream: "bpf-preload".into(),
        copyright: "the bpf-preload authors".into(),
        license: krate.runtime_license.clone(),
        modules_load: None,
        entry: format!(
            "bpf-preload's runtime {}, built by cargo bpf-preload deb.",
            trees.runtime.version
        ),
    };
    let name = &trees.object.name;
    let object = Source {
        package: format!("{}-dkms", package_name(name)?),
        version: debian_version(&trees.object.version)?,
        tree: &trees.object,
        // Exactly this runtime: the object's dkms.conf links against the
        // Module.symvers DKMS keeps under this runtime version's directory.
        depends: format!(", {RUNTIME_DEB} (= {runtime_version})"),
        summary: match &krate.description {
            Some(d) if !d.trim().is_empty() => first_line(d),
            _ => format!("eBPF object {name} preloaded by a kernel module (DKMS source)"),
        },
        description: vec![
            format!(
                "The kernel module {name}.ko ({} {}) carries an eBPF object's table and \
                 hands it to the bpf-preload runtime module, which loads, attaches and \
                 holds it.",
                krate.package, krate.version
            ),
            format!(
                "DKMS builds it for every installed kernel, after {RUNTIME_PACKAGE} and \
                 against its symbol versions, with the kernel's headers and gcc alone.{}",
                if options.modules_load {
                    format!(
                        " systemd-modules-load loads it at every boot \
                         (/usr/lib/modules-load.d/{name}.conf; mask it with \
                         /etc/modules-load.d/{name}.conf -> /dev/null)."
                    )
                } else {
                    String::new()
                }
            ),
        ],
        upstream: krate.package.clone(),
        copyright: if krate.authors.is_empty() {
            format!("the authors of {}", krate.package)
        } else {
            krate.authors.join(", ")
        },
        license: krate.license.clone(),
        modules_load: options.modules_load.then(|| name.clone()),
        entry: format!(
            "{} {}, built by cargo bpf-preload deb.",
            krate.package, krate.version
        ),
    };

    let mut sources = Vec::new();
    let mut built = Vec::new();
    for source in [&runtime, &object] {
        let dir = build.join(format!("{}-{}", source.package, source.version));
        source.write(&dir, &maintainer)?;
        let deb = dpkg_buildpackage(&dir, source, &repo)?;
        sources.push(dir);
        built.push(deb);
    }
    check_modes(&built[0], &trees.runtime)?;
    scan_packages(&repo)?;
    let object_deb = built.pop().context("two packages were built")?;
    let runtime_deb = built.pop().context("two packages were built")?;
    Ok(Debs {
        runtime: runtime_deb,
        object: object_deb,
        repo,
        sources,
    })
}

/// One source package to write: a DKMS tree and what its `debian/` says about it.
struct Source<'a> {
    package: String,
    version: String,
    tree: &'a Tree,
    /// More `Depends`, after `${misc:Depends}` (with its leading comma).
    depends: String,
    summary: String,
    /// Paragraphs of the long description.
    description: Vec<String>,
    upstream: String,
    copyright: String,
    license: Option<String>,
    /// The module systemd-modules-load loads, if the package ships its file.
    modules_load: Option<String>,
    entry: String,
}

impl Source<'_> {
    /// `dir/<tree>/` (a copy of the DKMS tree) and `dir/debian/`.
    fn write(&self, dir: &Path, maintainer: &str) -> Result<()> {
        // A fresh directory: files an earlier run wrote must not reach the package.
        if dir.exists() {
            fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        let tree_name = self
            .tree
            .dir
            .file_name()
            .context("a DKMS tree has a directory name")?
            .to_string_lossy()
            .into_owned();
        let dest = format!("usr/src/{}-{}", self.tree.name, self.tree.version);
        ensure!(
            tree_name == format!("{}-{}", self.tree.name, self.tree.version),
            "the DKMS tree {} is not named <name>-<version>, as /usr/src needs it",
            self.tree.dir.display()
        );
        let mut install = String::new();
        for file in copy_tree(&self.tree.dir, &dir.join(&tree_name))? {
            // dh_dkms installs dkms.conf itself (debian/<package>.dkms names it).
            if file != "dkms.conf" {
                install.push_str(&format!("{tree_name}/{file} {dest}/\n"));
            }
        }
        if let Some(module) = &self.modules_load {
            let conf = format!("modules-load/{module}.conf");
            write_if_changed(
                &dir.join(&conf),
                format!(
                    "# Installed by the {} package (made by `cargo bpf-preload deb`):\n\
                     # systemd-modules-load loads the module at every boot, and modprobe\n\
                     # loads the runtime module it depends on first.\n{module}\n",
                    self.package
                )
                .as_bytes(),
            )?;
            install.push_str(&format!("{conf} usr/lib/modules-load.d/\n"));
        }
        let debian = dir.join("debian");
        let package = self.package.as_str();
        let mut description = String::new();
        for (i, paragraph) in self.description.iter().enumerate() {
            if i > 0 {
                description.push_str(" .\n");
            }
            for line in wrap(paragraph, 72) {
                description.push_str(&format!(" {line}\n"));
            }
        }
        let control = fill(
            CONTROL,
            &[
                ("SOURCE", package),
                ("MAINTAINER", maintainer),
                ("PACKAGE", package),
                ("DEPENDS", &self.depends),
                ("SUMMARY", &self.summary),
                ("DESCRIPTION", description.trim_end()),
            ],
        );
        let (tree_name_ref, version_ref) = (self.tree.name.as_str(), self.tree.version.as_str());
        let rules = fill(
            RULES,
            &[
                ("PACKAGE", package),
                ("DKMS_NAME", tree_name_ref),
                ("DKMS_VERSION", version_ref),
            ],
        );
        let changelog = fill(
            CHANGELOG,
            &[
                ("SOURCE", package),
                ("VERSION", &self.version),
                ("ENTRY", &self.entry),
                ("MAINTAINER", maintainer),
                ("DATE", &rfc2822(build_time()?)),
            ],
        );
        let license = self.license.as_deref().unwrap_or("unknown");
        let copyright = fill(
            COPYRIGHT,
            &[
                ("UPSTREAM", &self.upstream),
                ("COPYRIGHT", &self.copyright),
                ("LICENSE", license),
                ("LICENSE_TEXT", &license_text(license)),
            ],
        );
        for (file, text) in [
            ("control", control.as_str()),
            ("rules", rules.as_str()),
            ("changelog", changelog.as_str()),
            ("copyright", copyright.as_str()),
            ("source/format", "3.0 (native)\n"),
            (&format!("{package}.install"), install.as_str()),
            // The tree's own dkms.conf, which dh_dkms installs as
            // /usr/src/<name>-<version>/dkms.conf.
            (
                &format!("{package}.dkms"),
                &format!("{tree_name}/dkms.conf\n"),
            ),
        ] {
            write_if_changed(&debian.join(file), text.as_bytes())?;
        }
        make_executable(&debian.join("rules"))
    }
}

/// `dpkg-buildpackage -us -uc -b` in `dir` (its log in `dir/build.log`); moves the
/// `.deb` into `repo`.
fn dpkg_buildpackage(dir: &Path, source: &Source, repo: &Path) -> Result<Deb> {
    let log = dir.join("build.log");
    let out = Command::new("dpkg-buildpackage")
        .args(["-us", "-uc", "-b"])
        .current_dir(dir)
        .output()
        .context("cannot run dpkg-buildpackage (`apt-get install dpkg-dev`)")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    fs::write(&log, &text).with_context(|| format!("writing {}", log.display()))?;
    if !out.status.success() {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "dpkg-buildpackage -us -uc -b failed for {} in {} ({}); the end of its log ({}):\n{}",
            source.package,
            dir.display(),
            out.status,
            log.display(),
            tail.join("\n")
        );
    }
    let file = format!("{}_{}_amd64.deb", source.package, source.version);
    let built = dir
        .parent()
        .context("a source directory has a parent")?
        .join(&file);
    let path = repo.join(&file);
    fs::copy(&built, &path).with_context(|| {
        format!(
            "dpkg-buildpackage made no {} (see {})",
            built.display(),
            log.display()
        )
    })?;
    fs::remove_file(&built)?;
    Ok(Deb {
        package: source.package.clone(),
        version: source.version.clone(),
        size: fs::metadata(&path)?.len(),
        path,
    })
}

/// The runtime's POST_BUILD script must stay executable in the package: DKMS only
/// warns about one that is not, and the object modules' builds then miss the
/// runtime's `Module.symvers`.
fn check_modes(deb: &Deb, tree: &Tree) -> Result<()> {
    let listing = tools::output(Command::new("dpkg-deb").arg("--contents").arg(&deb.path))?;
    let script = format!("./usr/src/{}-{}/keep-symvers.sh", tree.name, tree.version);
    let line = listing
        .lines()
        .find(|l| l.ends_with(&script))
        .with_context(|| format!("{} has no {script}", deb.path.display()))?;
    ensure!(
        line.starts_with("-rwxr-xr-x"),
        "{script} is not executable in {}: {line}",
        deb.path.display()
    );
    Ok(())
}

/// `dpkg-scanpackages . > Packages` in `repo`: a flat repository apt reads as
/// `deb [trusted=yes] file:<repo> ./`.
fn scan_packages(repo: &Path) -> Result<()> {
    let index = tools::output(
        Command::new("dpkg-scanpackages")
            .args(["--multiversion", ".", "/dev/null"])
            .current_dir(repo),
    )
    .context("dpkg-scanpackages (`apt-get install dpkg-dev`)")?;
    fs::write(repo.join("Packages"), index)
        .with_context(|| format!("writing {}/Packages", repo.display()))
}

/// The tools the build needs, with the packages that hold them.
fn check_tools() -> Result<()> {
    let missing: Vec<&str> = [
        ("dpkg-buildpackage", "dpkg-dev"),
        ("dpkg-scanpackages", "dpkg-dev"),
        ("dh", "debhelper"),
        ("dh_dkms", "dh-dkms"),
    ]
    .iter()
    .filter(|(tool, _)| !on_path(tool))
    .map(|(_, package)| *package)
    .collect();
    if !missing.is_empty() {
        let mut packages = missing.clone();
        packages.dedup();
        bail!(
            "building Debian packages needs dpkg-buildpackage, debhelper and dh_dkms: \
             `apt-get install {}`",
            packages.join(" ")
        );
    }
    Ok(())
}

/// Copies the files of `from` into `to` (modes kept), returning their paths relative
/// to `from`, sorted.
fn copy_tree(from: &Path, to: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        let src = from.join(&rel);
        fs::create_dir_all(to.join(&rel))?;
        for entry in fs::read_dir(&src).with_context(|| format!("reading {}", src.display()))? {
            let entry = entry?;
            let rel = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                dirs.push(rel);
            } else {
                // fs::copy copies the permission bits too (keep-symvers.sh's).
                fs::copy(entry.path(), to.join(&rel))
                    .with_context(|| format!("copying {}", entry.path().display()))?;
                files.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    Ok(files)
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

/// A Debian package name for a module name: lower case, `-` for `_` (Debian's names
/// allow `[a-z0-9+.-]`, starting with a letter or digit).
pub fn package_name(module: &str) -> Result<String> {
    let name = module.to_ascii_lowercase().replace('_', "-");
    ensure!(
        name.len() >= 2
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c)),
        "`{module}` does not make a Debian package name ([a-z0-9+.-], two characters or more)"
    );
    Ok(name)
}

/// A Debian version for a semver version, for a native package: a pre-release sorts
/// before its release in both (`1.0.0-rc.1` becomes `1.0.0~rc.1`), and a native
/// version has no `-`.
pub fn debian_version(semver: &str) -> Result<String> {
    let (core, build) = match semver.split_once('+') {
        Some((core, build)) => (core, Some(build)),
        None => (semver, None),
    };
    let mut version = match core.split_once('-') {
        Some((release, pre)) => format!("{release}~{}", pre.replace('-', "~")),
        None => core.to_string(),
    };
    if let Some(build) = build {
        version.push('+');
        version.push_str(&build.replace('-', "."));
    }
    ensure!(
        version.starts_with(|c: char| c.is_ascii_digit())
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "~+.".contains(c)),
        "`{semver}` does not make a Debian version"
    );
    Ok(version)
}

/// As dch finds the maintainer when not told.
fn default_maintainer(authors: &[String]) -> String {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let (Some(name), Some(email)) = (env("DEBFULLNAME"), env("DEBEMAIL")) {
        return format!("{name} <{email}>");
    }
    if let Some(author) = authors.iter().find(|a| a.contains('<') && a.ends_with('>')) {
        return author.clone();
    }
    let user = env("USER")
        .or_else(|| env("LOGNAME"))
        .unwrap_or_else(|| "root".into());
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{user} <{user}@{host}>")
}

/// `SOURCE_DATE_EPOCH` (reproducible builds), else now, in seconds.
fn build_time() -> Result<u64> {
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        return epoch
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH=`{epoch}` is not a number of seconds"));
    }
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())
}

/// A changelog date (RFC 2822, UTC) for `secs` since the epoch.
fn rfc2822(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Days to a civil date (Howard Hinnant's algorithm), from 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The copyright file's license paragraph: Debian's copy of the GPL where the
/// license is one.
fn license_text(license: &str) -> String {
    let common = if license.starts_with("GPL-2.0") {
        Some("GPL-2")
    } else if license.starts_with("GPL-3.0") {
        Some("GPL-3")
    } else {
        None
    };
    match common {
        Some(file) => format!(
            " On Debian systems, the complete text of the GNU General Public License\n \
             can be found in /usr/share/common-licenses/{file}."
        ),
        None => " See the crate's license files.".into(),
    }
}

fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    line.trim_end_matches('.').to_string()
}

/// `text` in lines of at most `width` characters (a longer word stays whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_versions_sort_as_semver() {
        assert_eq!(debian_version("0.1.0").unwrap(), "0.1.0");
        assert_eq!(debian_version("1.0.0-rc.1").unwrap(), "1.0.0~rc.1");
        assert_eq!(debian_version("1.0.0-alpha-2").unwrap(), "1.0.0~alpha~2");
        assert_eq!(debian_version("1.2.3+build-5").unwrap(), "1.2.3+build.5");
    }

    #[test]
    fn package_names_from_module_names() {
        assert_eq!(package_name("my_guard").unwrap(), "my-guard");
        assert_eq!(package_name("Iterators").unwrap(), "iterators");
        assert!(package_name("_x").is_err());
        assert!(package_name("a").is_err());
    }

    #[test]
    fn changelog_dates() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        // 2024-02-29T12:34:56Z, a leap day.
        assert_eq!(rfc2822(1_709_210_096), "Thu, 29 Feb 2024 12:34:56 +0000");
    }

    #[test]
    fn writes_a_debian_directory_around_a_tree() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("bpf-preload-deb-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let tree = Tree {
            dir: dir.join("dkms/my_guard-0.1.0"),
            name: "my_guard".into(),
            version: "0.1.0".into(),
        };
        fs::create_dir_all(&tree.dir).unwrap();
        fs::write(tree.dir.join("dkms.conf"), "PACKAGE_NAME=\"my_guard\"\n").unwrap();
        fs::write(tree.dir.join("object.c"), "").unwrap();
        let script = tree.dir.join("keep-symvers.sh");
        fs::write(&script, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let source = Source {
            package: "my-guard-dkms".into(),
            version: "0.1.0".into(),
            tree: &tree,
            depends: format!(", {RUNTIME_DEB} (= 0.1.0)"),
            summary: "A policy".into(),
            description: vec!["One.".into(), "Two.".into()],
            upstream: "my-guard".into(),
            copyright: "me".into(),
            license: Some("GPL-2.0-only".into()),
            modules_load: Some("my_guard".into()),
            entry: "Built.".into(),
        };
        let src = dir.join("src");
        source.write(&src, "Me <me@example.org>").unwrap();
        let read = |f: &str| fs::read_to_string(src.join(f)).unwrap();
        assert_eq!(
            read("debian/my-guard-dkms.install"),
            "my_guard-0.1.0/keep-symvers.sh usr/src/my_guard-0.1.0/\n\
             my_guard-0.1.0/object.c usr/src/my_guard-0.1.0/\n\
             modules-load/my_guard.conf usr/lib/modules-load.d/\n"
        );
        assert_eq!(
            read("debian/my-guard-dkms.dkms"),
            "my_guard-0.1.0/dkms.conf\n"
        );
        assert!(read("debian/rules").contains("\tdh $@ --with dkms\n"));
        let control = read("debian/control");
        assert!(control.contains("Depends: ${misc:Depends}, bpf-preload-runtime-dkms (= 0.1.0)\n"));
        assert!(control.contains("Description: A policy\n One.\n .\n Two.\n"));
        assert!(read("debian/changelog").starts_with("my-guard-dkms (0.1.0) unstable;"));
        assert!(read("debian/copyright").contains("/usr/share/common-licenses/GPL-2"));
        assert_eq!(
            read("modules-load/my_guard.conf").lines().last(),
            Some("my_guard")
        );
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&src.join("my_guard-0.1.0/keep-symvers.sh")), 0o755);
        assert_eq!(mode(&src.join("debian/rules")), 0o755);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wraps_descriptions() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("averylongword x", 4), ["averylongword", "x"]);
    }
}
