//! No module import cycle in the runtime, in xtask and in the crates xtask calls.
//!
//! Each crate's module tree is read from its `mod` declarations, and every path that
//! starts with `crate`, `super` or `self` (in `use` trees and in code) is resolved to
//! the module it names, through the `use` declarations of the modules on the way (so a
//! name a directory module re-exports from its child counts as that child). The graph
//! is taken at two levels: the top-level modules of the crate, and the submodules of
//! each directory module. A reference to an ancestor (the crate root, a directory
//! module's own `mod.rs`) is not an edge: that is where shared items and the facade
//! live. A cycle fails the test, listed module by module.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The crates checked, by their root file, relative to the workspace.
const CRATES: [&str; 5] = [
    "preload-runtime/src/lib.rs",
    "xtask/src/main.rs",
    "tests/corpus/src/lib.rs",
    "bench/src/lib.rs",
    "devtools/src/lib.rs",
];

/// A module path from the crate root, e.g. `["vm", "qemu"]`; the root is `[]`.
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    /// Any other character; a literal or a lifetime is one `Other('"')`.
    Other(char),
}

/// The tokens of a Rust file, without comments, string and character literals,
/// lifetimes, or attributes' contents beyond what the parser needs.
fn tokens(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' || ((ch == 'r' || ch == 'b') && is_raw_or_byte_string(&c, i)) {
            i = skip_string(&c, i);
            out.push(Token::Other('"'));
        } else if ch == '\'' {
            // A character literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
            }
            out.push(Token::Other('"'));
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(c[start..i].iter().collect()));
        } else {
            out.push(match ch {
                ':' if next == Some(':') => {
                    i += 1;
                    Token::PathSep
                }
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                ';' => Token::Semi,
                '*' => Token::Star,
                _ => Token::Other(ch),
            });
            i += 1;
        }
    }
    out
}

/// Whether `r"`, `r#"`, `b"`, `br"` or `br#"` starts at `i` (and not an identifier).
fn is_raw_or_byte_string(c: &[char], i: usize) -> bool {
    if i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_') {
        return false;
    }
    let mut j = i;
    if c[j] == 'b' {
        j += 1;
    }
    if c.get(j) == Some(&'r') {
        j += 1;
        while c.get(j) == Some(&'#') {
            j += 1;
        }
    }
    j > i && c.get(j) == Some(&'"')
}

/// The index after the string literal that starts at `i`.
fn skip_string(c: &[char], mut i: usize) -> usize {
    if c[i] == 'b' {
        i += 1;
    }
    if c[i] == 'r' {
        i += 1;
        let mut hashes = 0;
        while c[i] == '#' {
            hashes += 1;
            i += 1;
        }
        i += 1;
        while i < c.len() {
            if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                return i + 1 + hashes;
            }
            i += 1;
        }
        return i;
    }
    i += 1;
    while i < c.len() {
        match c[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// One module file: its child modules, the paths it
/// names (already made absolute where they start with `crate`, `super` or `self`),
/// and what its top-level `use` declarations bring in, by name.
#[derive(Debug, Default)]
struct Module {
    children: Vec<String>,
    /// Absolute paths this file names.
    refs: Vec<ModPath>,
    /// Name -> the path a `use` at the file's top level gives it (absolute, or
    /// starting with a child module's name made absolute).
    uses: BTreeMap<String, ModPath>,
}

/// A `use` tree or path read from `t` at `*i`: every leaf as (segments, alias); a glob
/// leaf ends in `*`.
fn use_tree(t: &[Token], i: &mut usize, prefix: &[String], out: &mut Vec<(ModPath, String)>) {
    let mut path = prefix.to_vec();
    loop {
        match t.get(*i) {
            Some(Token::Ident(name)) => {
                path.push(name.clone());
                *i += 1;
                match t.get(*i) {
                    Some(Token::PathSep) => *i += 1,
                    Some(Token::Ident(kw)) if kw == "as" => {
                        *i += 1;
                        let alias = match t.get(*i) {
                            Some(Token::Ident(a)) => a.clone(),
                            _ => String::from("_"),
                        };
                        *i += 1;
                        out.push((path, alias));
                        return;
                    }
                    _ => {
                        let name = path.last().cloned().unwrap_or_default();
                        out.push((path, name));
                        return;
                    }
                }
            }
            Some(Token::Star) => {
                *i += 1;
                path.push("*".into());
                out.push((path, "*".into()));
                return;
            }
            Some(Token::Open) => {
                *i += 1;
                loop {
                    match t.get(*i) {
                        Some(Token::Close) => {
                            *i += 1;
                            return;
                        }
                        Some(Token::Comma) => *i += 1,
                        None => return,
                        Some(Token::Ident(_) | Token::Star | Token::Open) => {
                            use_tree(t, i, &path, out)
                        }
                        // Anything else cannot be in a use tree: skip it rather than
                        // stop here for ever.
                        _ => *i += 1,
                    }
                }
            }
            _ => return,
        }
    }
}

/// `path` (as written in module `at`) made absolute, if it starts with `crate`,
/// `super` or `self`.
fn absolute(at: &[String], path: &[String]) -> Option<ModPath> {
    let mut base: ModPath = at.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("super") | Some("self") => {
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().filter(|s| *s != "*").cloned());
    Some(base)
}

/// Reads the module at `path` (its file `file`) and its descendants into `modules`.
fn read_module(file: &Path, path: ModPath, modules: &mut BTreeMap<ModPath, Module>) {
    let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let t = tokens(&text);
    // A file's child modules live in its own directory if it is a crate root or a
    // `mod.rs`, else in the directory named after it.
    let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
    let dir = if ["lib", "main", "mod"].contains(&stem.as_str()) || path.is_empty() {
        file.parent().unwrap().to_path_buf()
    } else {
        file.parent().unwrap().join(&stem)
    };
    let mut module = Module::default();
    // The inline modules (`mod tests { ... }`) open here: their path and the brace
    // depth they close at.
    let mut inline: Vec<(ModPath, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut explicit_path = false;
    let mut i = 0;
    while i < t.len() {
        let here: ModPath = inline.last().map_or(path.clone(), |(p, _)| p.clone());
        match &t[i] {
            Token::Open => {
                depth += 1;
                i += 1;
            }
            Token::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Token::Ident(kw)
                if kw == "path"
                    && i >= 2
                    && t[i - 2] == Token::Other('#')
                    && t[i - 1] == Token::Other('[') =>
            {
                // `#[path = "..."]`: the next `mod` is a file outside this tree (a
                // shared test helper), left out.
                explicit_path = true;
                i += 1;
            }
            Token::Ident(kw) if kw == "mod" => match (t.get(i + 1), t.get(i + 2)) {
                (Some(Token::Ident(name)), Some(Token::Semi)) => {
                    if !std::mem::take(&mut explicit_path) && inline.is_empty() {
                        let mut child = path.clone();
                        child.push(name.clone());
                        let flat = dir.join(format!("{name}.rs"));
                        let nested = dir.join(name).join("mod.rs");
                        let child_file = if flat.exists() { flat } else { nested };
                        module.children.push(name.clone());
                        read_module(&child_file, child, modules);
                    }
                    i += 3;
                }
                (Some(Token::Ident(name)), Some(Token::Open)) => {
                    let mut p = here.clone();
                    p.push(name.clone());
                    depth += 1;
                    inline.push((p, depth));
                    i += 3;
                }
                _ => i += 1,
            },
            Token::Ident(kw) if kw == "use" => {
                i += 1;
                let mut leaves = Vec::new();
                use_tree(&t, &mut i, &[], &mut leaves);
                for (leaf, alias) in leaves {
                    if let Some(abs) = absolute(&here, &leaf) {
                        module.refs.push(abs.clone());
                        if depth == 0 {
                            module.uses.insert(alias, abs);
                        }
                    } else if depth == 0 {
                        // Possibly a child module's name (`pub use kernels::Kernel`):
                        // resolved once the tree is known.
                        let mut rel = path.clone();
                        rel.push("?".into());
                        rel.extend(leaf.into_iter().filter(|s| s != "*"));
                        module.uses.insert(alias, rel);
                    }
                }
            }
            Token::Ident(kw) if ["crate", "super", "self"].contains(&kw.as_str()) => {
                let mut leaves = Vec::new();
                use_tree(&t, &mut i, &[], &mut leaves);
                for (leaf, _) in leaves {
                    if let Some(abs) = absolute(&here, &leaf) {
                        module.refs.push(abs);
                    }
                }
            }
            _ => i += 1,
        }
    }
    modules.insert(path, module);
}

/// The module a path names: the deepest module that is a prefix of it, followed
/// through the `use` declarations of that module when the next segment is a name it
/// imports (so that a re-export counts as the module it comes from).
fn target(modules: &BTreeMap<ModPath, Module>, path: &[String], hops: usize) -> ModPath {
    let mut len = path.len();
    while !modules.contains_key(&path[..len]) {
        len -= 1;
    }
    let module: ModPath = path[..len].to_vec();
    if hops < 8
        && let Some(name) = path.get(len)
        && let Some(used) = modules[&module].uses.get(name)
    {
        let Some(mut resolved) = resolve_use(modules, &module, used) else {
            return module;
        };
        resolved.extend(path[len + 1..].iter().cloned());
        if resolved != path {
            return target(modules, &resolved, hops + 1);
        }
    }
    module
}

/// A `use` path recorded relative to its module (`<module>/?/<child>/...`) made
/// absolute if its first segment is a child module; other relative paths name
/// external crates: `None`.
fn resolve_use(
    modules: &BTreeMap<ModPath, Module>,
    at: &ModPath,
    used: &ModPath,
) -> Option<ModPath> {
    let Some(q) = used.iter().position(|s| s == "?") else {
        return Some(used.clone());
    };
    let rest = &used[q + 1..];
    let first = rest.first()?;
    modules[at].children.contains(first).then(|| {
        let mut abs = at.clone();
        abs.extend(rest.iter().cloned());
        abs
    })
}

/// The edges of every level's graph: (the module whose children they join, from, to).
fn edges(modules: &BTreeMap<ModPath, Module>) -> BTreeSet<(ModPath, String, String)> {
    let mut out = BTreeSet::new();
    for (from, module) in modules {
        for r in &module.refs {
            let to = target(modules, r, 0);
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            // An ancestor, the module itself, or one of its descendants: no edge.
            if common == from.len() || common == to.len() {
                continue;
            }
            out.insert((
                from[..common].to_vec(),
                from[common].clone(),
                to[common].clone(),
            ));
        }
    }
    out
}

/// Every cycle found, each as the modules on it, the first repeated at the end.
fn cycles(root: &Path) -> Vec<String> {
    let mut modules = BTreeMap::new();
    read_module(root, Vec::new(), &mut modules);
    let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (level, from, to) in edges(&modules) {
        graphs
            .entry(level)
            .or_default()
            .entry(from)
            .or_default()
            .insert(to);
    }
    // One depth-first search from every module, so that one cycle does not hide
    // another; each cycle is kept once, starting at its least module.
    let mut found = BTreeSet::new();
    for (level, graph) in &graphs {
        for start in graph.keys() {
            let mut stack = Vec::new();
            let Some(mut cycle) = dfs(graph, start, &mut stack, &mut BTreeSet::new()) else {
                continue;
            };
            cycle.pop();
            let least = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap_or(0);
            cycle.rotate_left(least);
            cycle.push(cycle[0].clone());
            let prefix = if level.is_empty() {
                String::new()
            } else {
                format!("{}::", level.join("::"))
            };
            let names: Vec<String> = cycle.iter().map(|m| format!("{prefix}{m}")).collect();
            found.insert(format!("{}: {}", root.display(), names.join(" -> ")));
        }
    }
    found.into_iter().collect()
}

/// Depth first from `node`; returns the first cycle met.
fn dfs(
    graph: &BTreeMap<String, BTreeSet<String>>,
    node: &str,
    stack: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = stack.iter().position(|n| n == node) {
        let mut cycle = stack[at..].to_vec();
        cycle.push(node.to_string());
        return Some(cycle);
    }
    if done.contains(node) {
        return None;
    }
    stack.push(node.to_string());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(cycle) = dfs(graph, next, stack, done) {
            return Some(cycle);
        }
    }
    stack.pop();
    done.insert(node.to_string());
    None
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn no_module_import_cycle() {
    let found: Vec<String> = CRATES
        .iter()
        .flat_map(|root| cycles(&workspace().join(root)))
        .map(|c| c.replace(&format!("{}/", workspace().display()), ""))
        .collect();
    assert!(
        found.is_empty(),
        "module import cycles (each module depends on the next):\n  {}",
        found.join("\n  ")
    );
}

/// The check itself, on a small crate written for it: a cycle between two top-level
/// modules through a directory module's re-export, and one between two submodules.
#[test]
fn a_cycle_is_found_and_named() {
    let dir = std::env::temp_dir().join(format!("module-cycles-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("vm")).unwrap();
    let files = [
        ("lib.rs", "mod a;\nmod vm;\npub struct Shared;\n"),
        (
            "a.rs",
            "use crate::vm::Boot; // crate::nothing in a comment\nuse crate::Shared;\n",
        ),
        (
            "vm/mod.rs",
            "mod qemu;\nmod report;\npub use qemu::Boot;\npub struct Facade;\n",
        ),
        (
            "vm/qemu.rs",
            "use super::Facade;\npub struct Boot;\nfn f() { let _ = \"crate::a\"; super::report::g(); }\n",
        ),
        (
            "vm/report.rs",
            "pub fn g() { crate::a::h(); }\nfn k() -> super::qemu::Boot { todo!() }\n",
        ),
    ];
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
    }
    let found = cycles(&dir.join("lib.rs"));
    let lib = dir.join("lib.rs").display().to_string();
    assert_eq!(
        found,
        [
            format!("{lib}: a -> vm -> a"),
            format!("{lib}: vm::qemu -> vm::report -> vm::qemu"),
        ]
    );
    fs::write(
        dir.join("vm/report.rs"),
        "pub fn g() {}\nfn k() -> super::Boot { todo!() }\n",
    )
    .unwrap();
    fs::write(
        dir.join("vm/qemu.rs"),
        "use super::Facade;\npub struct Boot;\n",
    )
    .unwrap();
    fs::write(dir.join("a.rs"), "use crate::Shared;\n").unwrap();
    assert_eq!(cycles(&dir.join("lib.rs")), Vec::<String>::new());
    fs::remove_dir_all(&dir).unwrap();
}
