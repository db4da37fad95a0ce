//! Our side's binaries: one generated crate per object in `target/corpus/crates/`,
//! outside the workspace, all built by one `cargo build --keep-going`. A crate that does
//! not compile is an object `#[bpf_preload]` refuses; its first error is the cause.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use preload_devtools::root;

use crate::build::{corpus_dir, Entry};

/// Each crate's binary, or the message `#[bpf_preload]` (or rustc) refused it with.
pub type Binaries = BTreeMap<String, Result<PathBuf, String>>;

fn template(name: &str) -> Result<String> {
    let path = root().join("tests/corpus/template").join(name);
    fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

/// Writes only what changed, so that cargo rebuilds only what changed.
fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::create_dir_all(path.parent().unwrap())?;
        fs::write(path, text)?;
    }
    Ok(())
}

pub fn build(entries: &[Entry]) -> Result<Binaries> {
    let dir = corpus_dir().join("crates");
    let objects: Vec<(&Entry, &PathBuf)> = entries
        .iter()
        .filter_map(|e| e.object.as_ref().ok().map(|o| (e, o)))
        .collect();
    let members: Vec<String> = objects
        .iter()
        .map(|(e, _)| format!("\"{}\"", e.krate))
        .collect();
    write_if_changed(
        &dir.join("Cargo.toml"),
        &template("workspace.toml")?.replace("@MEMBERS@", &members.join(", ")),
    )?;
    // The repository's lock file, so that the crates build with the same dependencies.
    if !dir.join("Cargo.lock").exists() {
        fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock"))?;
    }
    let manifest = template("crate.toml")?
        .replace(
            "@RUNTIME@",
            &root().join("preload-runtime").display().to_string(),
        )
        .replace(
            "@PROBE@",
            &root().join("tests/corpus/probe").display().to_string(),
        );
    let main = template("main.rs")?;
    for (entry, object) in &objects {
        let crate_dir = dir.join(&entry.krate);
        write_if_changed(
            &crate_dir.join("Cargo.toml"),
            &manifest.replace("@CRATE@", &entry.krate),
        )?;
        write_if_changed(
            &crate_dir.join("src/main.rs"),
            &main
                .replace("@SOURCE@", &entry.source)
                .replace("@OBJ@", &object.display().to_string())
                .replace("@NAME@", &entry.name)
                .replace(
                    "@OPTIONS@",
                    &options(entry.loader.as_deref().unwrap_or_default())?,
                ),
        )?;
    }
    println!(
        "corpus: building {} crates in {} (cargo build --keep-going)",
        objects.len(),
        dir.display()
    );
    let mut child = preload_devtools::cargo()
        .current_dir(&dir)
        .args(["build", "--keep-going", "--message-format=json", "--bins"])
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("running cargo build for the corpus crates")?;
    let mut binaries = Binaries::new();
    let stdout = child.stdout.take().context("piped stdout")?;
    for line in BufReader::new(stdout).lines() {
        let Ok(json) = serde_json::from_str::<Value>(&line?) else {
            continue;
        };
        let Some(krate) = json["target"]["name"].as_str() else {
            continue;
        };
        match json["reason"].as_str() {
            Some("compiler-artifact") => {
                if let Some(exe) = json["executable"].as_str() {
                    binaries.insert(krate.to_string(), Ok(exe.into()));
                }
            }
            Some("compiler-message") if json["message"]["level"] == "error" => {
                let message = json["message"]["message"].as_str().unwrap_or("error");
                binaries
                    .entry(krate.to_string())
                    .or_insert_with(|| Err(first_line(message)));
            }
            _ => {}
        }
    }
    // A failed crate fails the build; that is a result, not an error.
    child.wait()?;
    for (entry, _) in &objects {
        binaries
            .entry(entry.krate.clone())
            .or_insert_with(|| Err("did not build (no message from rustc)".into()));
    }
    let built = binaries.values().filter(|b| b.is_ok()).count();
    println!(
        "corpus: {built} of {} crates built, {} refused",
        objects.len(),
        objects.len() - built
    );
    Ok(binaries)
}

/// A message on one line, without the object's absolute path.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message);
    // The list of every section the macro knows is the same in every such message.
    let line = line.split("; supported sections:").next().unwrap_or(line);
    let objects = corpus_dir().join("objects").display().to_string();
    line.replace(&format!("{objects}/"), "").replace('\t', " ")
}

/// The binaries of `krates`, statically linked for `target` and without debug info
/// (for an initramfs: smaller, faster to boot), in the
/// directory returned.
pub fn build_static(krates: &[String], target: &str) -> Result<PathBuf> {
    let dir = corpus_dir().join("crates");
    let target_dir = dir.join("target-static");
    if !krates.is_empty() {
        let mut cmd = preload_devtools::cargo();
        cmd.current_dir(&dir)
            .args(["build", "--quiet", "--target", target])
            .env("CARGO_TARGET_DIR", &target_dir)
            .env(
                "CARGO_ENCODED_RUSTFLAGS",
                "-Ctarget-feature=+crt-static\x1f-Cstrip=debuginfo",
            );
        for krate in krates {
            cmd.args(["-p", krate]);
        }
        preload_devtools::run(&mut cmd)?;
    }
    Ok(target_dir.join(target).join("debug"))
}

/// #[bpf_preload]'s options for the calls a product's loader makes (the `loader:`
/// lines of a written object; `tests/corpus/libbpf-loader.c` makes the same calls),
/// each after a comma: `inner=MAP:@TEMPLATE` and `inner=MAP:TYPE:KEY:VALUE:ENTRIES`
/// become `inner_map(...)`, `max=MAP:N` `max_entries(...)`, `value=MAP:N`
/// `value_size(...)`, `target=PROG:NAME` `attach_target(...)`, `type=PROG:TYPE`
/// `prog_type(...)`, `set=VAR:VALUE` `set(...)`.
fn options(calls: &[String]) -> Result<String> {
    let [mut inner, mut max, mut value, mut target, mut types, mut set] = [const { Vec::new() }; 6];
    for call in calls {
        let (kind, spec) = call
            .split_once('=')
            .with_context(|| format!("loader call `{call}` is not KIND=SPEC"))?;
        let fields: Vec<&str> = spec.split(':').collect();
        match (kind, &fields[..]) {
            ("inner", [map, template]) if template.starts_with('@') => {
                inner.push(format!("{map} = {}", &template[1..]));
            }
            ("inner", [map, ty, key, value, entries]) => inner.push(format!(
                "{map} = {{ type = BPF_MAP_TYPE_{}, key_size = {key}, value_size = {value}, \
                 max_entries = {entries} }}",
                ty.to_uppercase()
            )),
            ("max", [map, entries]) => max.push(format!("{map} = {entries}")),
            ("value", [map, size]) => value.push(format!("{map} = {size}")),
            ("type", [program, ty]) => {
                types.push(format!("{program} = BPF_PROG_TYPE_{}", ty.to_uppercase()))
            }
            ("target", [program, name]) => target.push(format!("{program} = \"{name}\"")),
            ("set", [var, value]) => set.push(format!("{var} = {value}")),
            _ => bail!("loader call `{call}`: see tests/corpus/libbpf-loader.c for the forms"),
        }
    }
    let mut out = String::new();
    for (option, items) in [
        ("inner_map", inner),
        ("max_entries", max),
        ("value_size", value),
        ("attach_target", target),
        ("prog_type", types),
        ("set", set),
    ] {
        if !items.is_empty() {
            out.push_str(&format!(", {option}({})", items.join(", ")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::options;

    #[test]
    fn loader_calls_become_the_attributes_options() {
        let calls: Vec<String> = [
            "target=on_enter:sys_enter",
            "inner=per_cgroup:@template",
            "inner=per_pid:reuseport_sockarray:4:8:32",
            "max=start:10240",
            "value=stackmap:1016",
            "type=tc_prog:sched_cls",
            "set=enforce:true",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            options(&calls).unwrap(),
            ", inner_map(per_cgroup = template, per_pid = { type = \
             BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, key_size = 4, value_size = 8, max_entries = \
             32 }), max_entries(start = 10240), value_size(stackmap = 1016), \
             attach_target(on_enter = \"sys_enter\"), prog_type(tc_prog = \
             BPF_PROG_TYPE_SCHED_CLS), set(enforce = true)"
        );
        assert_eq!(options(&[]).unwrap(), "");
        assert!(options(&["inner=x".into()]).is_err());
    }
}
