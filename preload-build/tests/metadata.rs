//! `Crate::open` on crates outside any workspace, through the real `cargo metadata`:
//! a hyphenated package with the struct in a nested module file, depending on
//! bpf-preload by path; and one depending on it from git (a local repository holding
//! a stand-in `bpf-preload` package), whose wrapper must name the same source.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use bpf_preload_build::{Crate, Runtime};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpf-preload-build-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

const LIB: &str = "#![no_std]\npub mod policy;\n";
const POLICY: &str =
    "#[bpf_preload::bpf_preload(obj = \"../../bpf/my_policy.bpf.o\")]\npub struct Guard;\n";

#[test]
fn path_dependency_hyphenated_nested() {
    let dir = scratch("path");
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../preload-runtime")
        .canonicalize()
        .unwrap();
    write(
        &dir.join("my-policy/Cargo.toml"),
        &format!(
            "[package]\nname = \"my-policy\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n\
             [dependencies]\nbpf-preload = {{ path = {:?}, default-features = false }}\n",
            runtime.to_string_lossy()
        ),
    );
    write(&dir.join("my-policy/src/lib.rs"), LIB);
    write(&dir.join("my-policy/src/policy/mod.rs"), POLICY);
    let krate = Crate::open(&dir.join("my-policy")).unwrap();
    assert_eq!(krate.package, "my-policy");
    assert_eq!(krate.version, "0.3.1");
    assert_eq!(krate.lib_name, "my_policy");
    assert_eq!(krate.preloaded.path, "my_policy::policy::Guard");
    assert_eq!(krate.preloaded.name, "my_policy");
    assert_eq!(krate.runtime, Runtime::Path(runtime));
    assert_eq!(krate.target_dir, dir.join("my-policy/target"));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn git_dependency_names_the_same_source() {
    let dir = scratch("git");
    let repo = dir.join("runtime-repo");
    write(
        &repo.join("Cargo.toml"),
        "[package]\nname = \"bpf-preload\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&repo.join("src/lib.rs"), "#![no_std]\n");
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(&repo)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "stable"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "stand-in"]);
    let url = format!("file://{}", repo.display());
    write(
        &dir.join("user/Cargo.toml"),
        &format!(
            "[package]\nname = \"user\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nbpf-preload = {{ git = {url:?}, branch = \"stable\", default-features = false }}\n"
        ),
    );
    write(
        &dir.join("user/src/lib.rs"),
        "#[bpf_preload::bpf_preload(obj = \"x.bpf.o\")]\npub struct X;\n",
    );
    let krate = Crate::open(&dir.join("user")).unwrap();
    assert_eq!(
        krate.runtime,
        Runtime::Git {
            url: url.clone(),
            reference: Some(("branch".into(), "stable".into())),
        }
    );
    assert!(krate
        .runtime
        .dependency(&["kernel"])
        .starts_with(&format!("{{ git = {url:?}, branch = \"stable\"")));
    fs::remove_dir_all(dir).unwrap();
}
