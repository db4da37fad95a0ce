//! What every generated corpus binary runs (`cargo xtask corpus`): load one object with
//! the user backend into a private bpffs, report what the kernel made of it, hold it
//! until the harness closes our stdin, then free it.
//!
//! The report is line-oriented on stdout, tab-separated, so the harness needs no parser
//! beyond `split('\t')`:
//! - `prog NAME ID` and `map NAME ID` for every program and map loaded, then `ready`;
//! - or `error STEP ERRNO`, followed by the verifier log's end on stderr, and exit 1.

use std::io::{Read, Write};

use bpf_preload::abi::{MapInfo, ProgInfo};
use bpf_preload::user::{self, Mount, UserBackend};
use bpf_preload::{load, Object};

/// Loads `object`, reports, waits for stdin to close, frees. Exits the process.
pub fn run(object: &'static Object) -> ! {
    std::process::exit(match probe(object) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("corpus-probe: {message}");
            1
        }
    })
}

fn probe(object: &'static Object) -> Result<(), String> {
    user::enter_private_mount_namespace()
        .map_err(|e| format!("cannot enter a private mount namespace: {e}"))?;
    let fs = Mount::bpffs().map_err(|e| format!("cannot mount bpffs: {e}"))?;
    let dir = fs.path().join(object.name);
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Maps pinned by name are shared in this bpffs, not the machine's /sys/fs/bpf.
    let mut backend = UserBackend::new(&dir).with_pin_root(fs.path());
    let mut out = std::io::stdout().lock();
    let loaded = match load(object, &mut backend) {
        Ok(loaded) => loaded,
        Err(e) => {
            // One line the harness records; the whole error (verifier log) for humans.
            let _ = writeln!(out, "error\t{}\t{}", e.step, e.errno);
            let _ = out.flush();
            return Err(e.to_string());
        }
    };
    let mut report = String::new();
    for program in object.programs {
        if let Some(fd) = loaded.program_fd(program.name.as_str()) {
            let info: ProgInfo = backend
                .info_by_fd(fd)
                .map_err(|e| format!("program `{}`: info by fd: {e}", program.name))?;
            report.push_str(&format!("prog\t{}\t{}\n", program.name, info.id));
        }
    }
    for map in object.maps {
        if let Some(fd) = loaded.map_fd(map.name.as_str()) {
            let info: MapInfo = backend
                .info_by_fd(fd)
                .map_err(|e| format!("map `{}`: info by fd: {e}", map.name))?;
            report.push_str(&format!("map\t{}\t{}\n", map.name, info.id));
        }
    }
    report.push_str("ready\n");
    out.write_all(report.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot report: {e}"))?;
    // The harness inspects by id while we hold everything; EOF means it is done.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    loaded.free(&mut backend);
    drop(fs);
    Ok(())
}
