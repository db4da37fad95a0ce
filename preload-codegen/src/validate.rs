//! Checks the attribute against the object and decides the plan: the object's name,
//! which links exist, what is pinned under which name, and which links only user
//! space can make.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use syn::{Ident, LitStr};

use crate::model::names::{self, pin_name_problem};
use crate::model::{kinds, Attach, AttachModel, MapModel, Model, TargetIn};
use crate::parse::{closest, Args, DefinitionValue, InnerMap};
use bpf_preload_uapi::{AttachType, BtfKind};

#[derive(Debug)]
pub struct Plan {
    pub name: String,
    /// Per map: the name given to the kernel.
    pub map_kernel_names: Vec<String>,
    /// Per map: its pin, if any.
    pub map_pins: Vec<Option<String>>,
    /// Per program: its pin, if any.
    pub program_pins: Vec<Option<String>>,
    /// Per map: its `max_entries` in the table (0 for the loader to set).
    pub map_entries: Vec<u32>,
    /// Per map: its value size in the table, the object's or `value_size(...)`'s.
    pub map_value_sizes: Vec<u32>,
    /// Per map: frozen by `freeze(...)`/`freeze_all` once the loader has written it.
    pub map_freeze: Vec<bool>,
    /// `protect`: the runtime's guard is loaded with the object.
    pub protect: bool,
    /// The programs the table holds (indices into the model's), in order: all but
    /// those of `?` sections not named in `autoload(...)`.
    pub programs: Vec<usize>,
    pub links: Vec<LinkPlan>,
    /// Whether the loader registers struct_ops maps (not under `no_attach_all`).
    pub register_struct_ops: bool,
    /// Per program of the model: its attach target in the kernel's BTF (name and
    /// kind), from its section or from `attach_target(...)`.
    pub program_targets: Vec<Option<(String, BtfKind)>>,
    /// Per program of the model: the pin of the BPF program its target is a function
    /// of, from `target_program(...)` (`None`: a target in the kernel).
    pub target_programs: Vec<Option<String>>,
    /// Per map: its initial value, with the values of `set(...)` written in.
    pub initial_values: Vec<Option<Vec<u8>>>,
    /// Per map: the inner map `inner_map(...)` gives a map of maps whose object
    /// declares none (`None` for every other map).
    pub inner_maps: Vec<Option<MapModel>>,
    /// `params(...)`: the variables a loader may give values as text.
    pub params: Vec<crate::values::ParamPlan>,
}

impl Plan {
    /// The table index of the model's program `i`, if the table holds it.
    pub fn table_program(&self, i: usize) -> Option<usize> {
        self.programs.iter().position(|&p| p == i)
    }
}

#[derive(Debug)]
pub struct LinkPlan {
    pub program: usize,
    pub attach: AttachModel,
    pub pin: Option<String>,
    /// Set when only user space can make this link: why a module cannot, as the
    /// message that fails a module's build.
    pub user_space_only: Option<String>,
}

/// The name of the object, from `name = "..."` or the object file's stem, by the
/// rule the module builder follows too ([`names`]).
pub fn object_name(args: &Args) -> syn::Result<String> {
    let name = args.object_name();
    let (span, origin) = match &args.name {
        Some(lit) => (lit.span(), "`name = \"...\"`"),
        None => (
            args.obj.span(),
            "the object file's name up to its first `.`",
        ),
    };
    if let Some(problem) = names::object_name_problem(&name) {
        let shown = if name.is_empty() {
            "an empty object name".to_string()
        } else {
            format!("object name `{name}`")
        };
        return Err(syn::Error::new(
            span,
            format!("{shown} (from {origin}) cannot be a kernel module name: {problem}"),
        ));
    }
    Ok(name)
}

fn unknown(ident: &Ident, what: &str, candidates: &[&str]) -> syn::Error {
    let name = ident.to_string();
    let hint = match closest(&name, candidates.iter().copied()) {
        Some(c) => format!("; did you mean `{c}`?"),
        None if candidates.is_empty() => format!("; the object has no {what}"),
        None => format!("; the object has: {}", candidates.join(", ")),
    };
    syn::Error::new(
        ident.span(),
        format!("no {what} named `{name}` in the object{hint}"),
    )
}

/// Map keys accept `rodata` for `.rodata`, since a dot cannot start an identifier.
fn map_index(model: &Model, key: &str) -> Option<usize> {
    model
        .maps
        .iter()
        .position(|m| m.name == key || m.name.strip_prefix('.') == Some(key))
}

fn listed_twice(ids: &[Ident], option: &str) -> syn::Result<()> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id.to_string()) {
            return Err(syn::Error::new(
                id.span(),
                format!("`{id}` is listed twice in `{option}(...)`"),
            ));
        }
    }
    Ok(())
}

/// Every problem a check finds, reported together (`syn::Error::combine`), so that
/// the user sees them all at once rather than one per build.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn check<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// Ends a group of checks: later ones build on what these checked.
    fn finish(&mut self) -> syn::Result<()> {
        self.0.take().map_or(Ok(()), Err)
    }
}

/// What the checks of one plan share: the attribute, the object, the programs the
/// table holds and the errors found so far.
struct Cx<'a> {
    args: &'a Args,
    model: &'a Model,
    errors: Errors,
    /// Indices of the programs the table holds.
    loaded: Vec<usize>,
}

impl<'a> Cx<'a> {
    fn program_index(&self, id: &Ident) -> Option<usize> {
        self.model.programs.iter().position(|p| id == &p.name)
    }

    fn program_names(&self) -> Vec<&'a str> {
        self.model
            .programs
            .iter()
            .map(|p| p.name.as_str())
            .collect()
    }

    fn is_loaded(&self, i: usize) -> bool {
        self.loaded.contains(&i)
    }

    fn detached(&self, program: &str) -> bool {
        self.args.no_attach_all.is_some() || self.args.no_attach.iter().any(|id| id == program)
    }

    fn has_link(&self, i: usize) -> bool {
        let p = &self.model.programs[i];
        self.is_loaded(i) && p.kind.attach.model().is_some() && !self.detached(&p.name)
    }

    /// Program names the kernel accepts.
    fn check_program_names(&mut self) {
        for p in &self.model.programs {
            let valid = p
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
            if !valid {
                self.errors.push(syn::Error::new(
                    self.args.obj.span(),
                    format!(
                        "program `{}` has a name the kernel refuses: program names may hold \
                         only ASCII letters, digits, `_` and `.`",
                        p.name.escape_debug()
                    ),
                ));
            }
        }
    }

    /// `autoload`, `no_attach` and `no_pin` name each program once, and programs the
    /// object has; `no_attach` and `no_attach_all` are not both given.
    fn check_program_lists(&mut self) {
        let args = self.args;
        self.errors
            .check(listed_twice(&args.no_attach, "no_attach"));
        self.errors.check(listed_twice(&args.no_pin, "no_pin"));
        self.errors.check(listed_twice(&args.autoload, "autoload"));
        let program_names = self.program_names();
        for id in &args.autoload {
            let found = self
                .program_index(id)
                .ok_or_else(|| unknown(id, "program", &program_names));
            let Some(i) = self.errors.check(found) else {
                continue;
            };
            if self.model.programs[i].autoload {
                self.errors.push(syn::Error::new(
                    id.span(),
                    format!(
                        "`autoload({id})`: program `{id}` is loaded anyway; `autoload` is for \
                         programs of `?` sections (SEC(\"?{}\")), which are not",
                        self.model.programs[i].section
                    ),
                ));
            }
        }
        for id in &args.no_attach {
            let found = self
                .program_index(id)
                .ok_or_else(|| unknown(id, "program", &program_names));
            self.errors.check(found);
        }
        if let (Some(all), Some(first)) = (&args.no_attach_all, args.no_attach.first()) {
            let mut e = syn::Error::new(
                first.span(),
                "`no_attach(...)` names programs, but `no_attach_all` already leaves every \
                 program unattached: give one of the two",
            );
            e.combine(syn::Error::new(all.span(), "`no_attach_all` is given here"));
            self.errors.push(e);
        }
    }

    /// `attach_target(PROGRAM = "target")` names programs of the object whose section
    /// attaches to a target in the kernel's BTF and names none, as libbpf's
    /// `bpf_program__set_attach_target(prog, 0, "target")` completes them; every
    /// program the table holds that needs a target has one. Returns, per program, the
    /// target its table entry carries, found by libbpf's rules for either source
    /// ([`kinds::kernel_btf_target`]).
    fn attach_targets(&mut self) -> Vec<Option<(String, BtfKind)>> {
        let (args, model) = (self.args, self.model);
        let mut targets: Vec<Option<(String, BtfKind)>> = model
            .programs
            .iter()
            .map(|p| p.kind.attach_btf.clone())
            .collect();
        let program_names = self.program_names();
        let mut given: HashSet<usize> = HashSet::new();
        for (id, lit) in &args.attach_target {
            let found = self
                .program_index(id)
                .ok_or_else(|| unknown(id, "program", &program_names));
            let Some(i) = self.errors.check(found) else {
                continue;
            };
            if !given.insert(i) {
                self.errors.push(syn::Error::new(
                    id.span(),
                    format!("`{id}` is given two targets in `attach_target(...)`"),
                ));
                continue;
            }
            let p = &model.programs[i];
            if !p.kind.takes_btf_target {
                self.errors.push(syn::Error::new(
                    id.span(),
                    format!(
                        "`attach_target({id} = ...)`: program `{id}` (section `{}`) does not \
                         attach to a target in the kernel's BTF, so it takes none; \
                         `attach_target` completes the sections of {BTF_SECTIONS} that name no \
                         target, as libbpf's bpf_program__set_attach_target() does",
                        p.section
                    ),
                ));
                continue;
            }
            if p.kind.attach_btf.is_some() {
                let base = p.section.split('/').next().unwrap_or_default();
                self.errors.push(syn::Error::new(
                    id.span(),
                    format!(
                        "`attach_target({id} = ...)`: program `{id}`'s section `{}` already \
                         names its target; give the target once, in the section or here with \
                         the section written `SEC(\"{base}\")`",
                        p.section
                    ),
                ));
                continue;
            }
            let target = lit.value();
            if let Some(problem) = target_problem(&target, p.kind.expected_attach_type) {
                self.errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "attach target `{}` of `{id}` {problem}",
                        target.escape_debug()
                    ),
                ));
                continue;
            }
            targets[i] = Some(kinds::kernel_btf_target(
                p.kind.expected_attach_type,
                &target,
            ));
        }
        for &i in &self.loaded {
            let p = &model.programs[i];
            if p.kind.takes_btf_target && targets[i].is_none() && !given.contains(&i) {
                self.errors.push(syn::Error::new(
                    args.obj.span(),
                    format!(
                        "program `{0}` (section `{1}`) names no attach target, which the \
                         kernel needs to load it: give it with `attach_target({0} = \"...\")` \
                         (what libbpf's bpf_program__set_attach_target() sets before load), or \
                         write the section as `{1}/<target>`",
                        p.name, p.section
                    ),
                ));
            }
        }
        targets
    }

    /// `target_program(PROGRAM = "/sys/fs/bpf/...")` names programs of the object
    /// whose target may be a function of another BPF program (`freplace`, `fentry`,
    /// `fexit`) and gives that program's pin, as libbpf's
    /// `bpf_program__set_attach_target(prog, fd, "function")` gives its fd; every
    /// freplace program the table holds has one. Returns each program's pin.
    fn target_programs(&mut self) -> Vec<Option<String>> {
        let (args, model) = (self.args, self.model);
        let mut pins: Vec<Option<String>> = vec![None; model.programs.len()];
        let program_names = self.program_names();
        let mut given: HashSet<usize> = HashSet::new();
        for (id, lit) in &args.target_program {
            let found = self
                .program_index(id)
                .ok_or_else(|| unknown(id, "program", &program_names));
            let Some(i) = self.errors.check(found) else {
                continue;
            };
            let p = &model.programs[i];
            if p.kind.target_in == TargetIn::Kernel {
                self.errors.push(syn::Error::new(
                    id.span(),
                    format!(
                        "`target_program({id} = ...)`: program `{id}` (section `{}`) attaches \
                         to the kernel; `target_program` gives `freplace`, `fentry` and \
                         `fexit` programs the BPF program whose function they attach to",
                        p.section
                    ),
                ));
                continue;
            }
            if !given.insert(i) {
                self.errors.push(syn::Error::new(
                    id.span(),
                    format!("`{id}` is given two programs in `target_program(...)`"),
                ));
                continue;
            }
            let pin = lit.value();
            if !pin.starts_with('/') || pin.contains('\0') || pin.len() >= PATH_MAX {
                self.errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "`{}` is not the absolute path of a pinned program (`/sys/fs/bpf/...`)",
                        pin.escape_debug()
                    ),
                ));
                continue;
            }
            pins[i] = Some(pin);
        }
        for &i in &self.loaded {
            let p = &model.programs[i];
            if p.kind.target_in == TargetIn::Program && !given.contains(&i) {
                self.errors.push(syn::Error::new(
                    args.obj.span(),
                    format!(
                        "program `{0}` (section `{1}`) replaces a function of another BPF \
                         program, which must be loaded first: give that program's pin with \
                         `target_program({0} = \"/sys/fs/bpf/...\")` (what libbpf's \
                         bpf_program__set_attach_target() gives with its fd)",
                        p.name, p.section
                    ),
                ));
            }
        }
        pins
    }

    /// Programs bpf-preload cannot attach must be marked load-only.
    fn check_load_only(&mut self) {
        for &i in &self.loaded {
            let p = &self.model.programs[i];
            if let Attach::Manually { why } = &p.kind.attach
                && !self.detached(&p.name)
            {
                self.errors.push(syn::Error::new(
                    self.args.obj.span(),
                    format!(
                        "program `{0}` (section `{1}`) cannot be attached by bpf-preload: {why}. \
                         Load it without attaching it, with `no_attach({0})`, and attach it from \
                         user space (`pin_programs` pins it as `{0}_prog`)",
                        p.name, p.section
                    ),
                ));
            }
        }
    }

    /// What `pin_as` and `no_pin` name: a link (by its program) or a map.
    fn linkless(&self, id: &Ident, option: &str) -> syn::Result<()> {
        match self.program_index(id) {
            Some(i) if !self.has_link(i) => Err(syn::Error::new(
                id.span(),
                format!(
                    "`{option}` names program `{id}`, which has no link to pin: it is loaded \
                     only ({}). Programs are pinned with `pin_programs`, as `{id}_prog`",
                    if !self.is_loaded(i) {
                        "it is in a `?` section and not in `autoload(...)`"
                    } else if self.args.no_attach_all.is_some() {
                        "`no_attach_all` is given"
                    } else if self.detached(&id.to_string()) {
                        "it is in `no_attach`"
                    } else {
                        "a socket filter is attached by whoever opens the socket"
                    }
                ),
            )),
            _ => Ok(()),
        }
    }

    /// `pin_as(...)` and `no_pin(...)`: what they name can be pinned, and each is
    /// renamed at most once and not also left unpinned. Returns the renames.
    fn pin_renames(&mut self) -> HashMap<String, &'a LitStr> {
        let (args, model) = (self.args, self.model);
        let pinnable: Vec<&str> = model
            .programs
            .iter()
            .map(|p| p.name.as_str())
            .chain(model.maps.iter().map(|m| m.name.trim_start_matches('.')))
            .collect();
        let mut renamed: HashMap<String, &LitStr> = HashMap::new();
        for (id, lit) in &args.pin_as {
            if self.program_index(id).is_none() && map_index(model, &id.to_string()).is_none() {
                self.errors.push(unknown(id, "program or map", &pinnable));
                continue;
            }
            let linkless = self.linkless(id, "pin_as(...)");
            self.errors.check(linkless);
            if let Some(problem) = pin_name_problem(&lit.value()) {
                self.errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "pin name `{}` {problem}: bpffs cannot hold it",
                        lit.value().escape_debug()
                    ),
                ));
            }
            if renamed.insert(id.to_string(), lit).is_some() {
                self.errors.push(syn::Error::new(
                    id.span(),
                    format!("`{id}` is renamed twice in `pin_as(...)`"),
                ));
            }
        }
        for id in &args.no_pin {
            if self.program_index(id).is_none() && map_index(model, &id.to_string()).is_none() {
                self.errors.push(unknown(id, "program or map", &pinnable));
                continue;
            }
            let linkless = self.linkless(id, "no_pin(...)");
            self.errors.check(linkless);
            if renamed.contains_key(&id.to_string()) {
                self.errors.push(syn::Error::new(
                    id.span(),
                    format!(
                        "`{id}` is both renamed in `pin_as(...)` and left unpinned in `no_pin`"
                    ),
                ));
            }
            if let Some(m) = map_index(model, &id.to_string()).map(|i| &model.maps[i])
                && m.internal
                && !args.pin_data
                && self.program_index(id).is_none()
            {
                self.errors.push(syn::Error::new(
                    id.span(),
                    format!(
                        "`no_pin({id})`: the `{}` map is not pinned anyway (only `pin_data` \
                         pins global-data maps)",
                        m.name
                    ),
                ));
            }
        }
        renamed
    }

    /// The links: every loaded, attached program that the object's section lets us
    /// attach, with its pin.
    fn link_plans(&self, pin_name: &impl Fn(&str, String) -> Option<String>) -> Vec<LinkPlan> {
        self.model
            .programs
            .iter()
            .enumerate()
            .filter(|&(i, p)| self.is_loaded(i) && !self.detached(&p.name))
            .filter_map(|(i, p)| {
                let attach = p.kind.attach.model()?.clone();
                let user_space_only = match &p.kind.attach {
                    Attach::UserSpaceOnly { why, .. } => Some(format!(
                        "program `{0}` (section `{1}`) cannot be attached from a kernel module: \
                         {why}. Load it without attaching it, with `no_attach({0})`, and attach \
                         it from user space; or preload this object from user space instead",
                        p.name, p.section
                    )),
                    _ => None,
                };
                Some(LinkPlan {
                    program: i,
                    attach,
                    pin: pin_name(&p.name, p.name.clone()),
                    user_space_only,
                })
            })
            .collect()
    }

    /// Every pin (`pin`, what it pins) has a name bpffs can hold and no other pin's.
    fn check_pins(&mut self, pins: &[(&str, String)]) {
        let args = self.args;
        // The last rename to `pin` in the attribute, else the object.
        let span_of = |pin: &str| -> Span {
            args.pin_as
                .iter()
                .rev()
                .find(|(_, l)| l.value() == pin)
                .map_or(args.obj.span(), |(_, l)| l.span())
        };
        // Names from the object, rather than from `pin_as`, may be unfit too.
        for (pin, what) in pins {
            if let Some(problem) = pin_name_problem(pin) {
                self.errors.push(syn::Error::new(
                    span_of(pin),
                    format!(
                        "{what} would be pinned as `{}`, which {problem}: bpffs cannot hold it; \
                         rename it with `pin_as(...)` or leave it unpinned with `no_pin(...)`",
                        pin.escape_debug()
                    ),
                ));
            }
        }
        // Two pins with one name would fail at load time: refuse now.
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for (pin, what) in pins {
            if let Some(first) = seen.insert(pin, what) {
                self.errors.push(syn::Error::new(
                    span_of(pin),
                    format!(
                        "two pins named `{pin}`: {first} and {what}; rename one with \
                         `pin_as(...)` or leave one unpinned with `no_pin(...)`"
                    ),
                ));
            }
        }
    }
}

/// The programs the table holds: all but those of `?` sections not in `autoload(...)`.
fn loaded_programs(args: &Args, model: &Model) -> Vec<usize> {
    (0..model.programs.len())
        .filter(|&i| {
            model.programs[i].autoload
                || args.autoload.iter().any(|id| id == &model.programs[i].name)
        })
        .collect()
}

/// Checks the attribute against the object and decides the plan, in named steps. Each
/// group of checks reports every problem it finds; a group that finds any ends the
/// plan, since later ones build on it.
pub fn plan(args: &Args, model: &Model) -> syn::Result<Plan> {
    let mut cx = Cx {
        args,
        model,
        errors: Errors::default(),
        loaded: loaded_programs(args, model),
    };
    let name = cx.errors.check(object_name(args));
    cx.check_program_names();
    cx.check_program_lists();
    cx.errors.finish()?;
    let name = name.unwrap_or_default();

    cx.check_load_only();
    let renamed = cx.pin_renames();
    let program_targets = cx.attach_targets();
    let target_programs = cx.target_programs();
    let initial_values = cx.errors.check(crate::values::initial_values(args, model));
    let params = cx.errors.check(crate::values::params(args, model));
    cx.errors.finish()?;

    let unpinned = |key: &str| args.no_pin.iter().any(|id| id == key);
    let pin_name = |key: &str, default: String| -> Option<String> {
        if unpinned(key) {
            return None;
        }
        Some(renamed.get(key).map_or(default, |lit| lit.value()))
    };
    let links = cx.link_plans(&pin_name);
    let map_pins: Vec<Option<String>> = model
        .maps
        .iter()
        .map(|m| {
            let key = m.name.trim_start_matches('.');
            let default = names::default_map_pin_name(key);
            let asked = renamed.contains_key(key) || (m.internal && args.pin_data);
            (!m.internal || asked)
                .then(|| pin_name(key, default))
                .flatten()
        })
        .collect();
    let program_pins: Vec<Option<String>> = model
        .programs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (args.pin_programs && cx.is_loaded(i)).then(|| names::program_pin_name(&p.name))
        })
        .collect();
    cx.errors.check(typed_programs_exist(args, model));
    let map_entries = cx.errors.check(entries(args, model));
    let map_value_sizes = cx.errors.check(value_sizes(args, model));
    let map_freeze = cx.errors.check(frozen(args, model));
    let inner_maps = match &map_entries {
        Some(entries) => cx.errors.check(inner_maps(args, model, entries)),
        None => None,
    };

    // Every pin, with what it pins.
    let mut pins: Vec<(&str, String)> = Vec::new();
    for l in &links {
        if let Some(pin) = &l.pin {
            pins.push((
                pin,
                format!("the link of `{}`", model.programs[l.program].name),
            ));
        }
    }
    for (m, pin) in model.maps.iter().zip(&map_pins) {
        if let Some(pin) = pin {
            pins.push((pin, format!("the map `{}`", m.name)));
        }
    }
    for (p, pin) in model.programs.iter().zip(&program_pins) {
        if let Some(pin) = pin {
            pins.push((pin, format!("the program `{}`", p.name)));
        }
    }
    cx.check_pins(&pins);
    cx.errors.finish()?;

    let map_kernel_names = model
        .maps
        .iter()
        .map(|m| {
            if m.internal {
                names::internal_map_name(&name, &m.name)
            } else {
                names::kernel_name(&m.name)
            }
        })
        .collect();
    Ok(Plan {
        name,
        map_kernel_names,
        map_pins,
        program_pins,
        map_entries: map_entries.unwrap_or_default(),
        map_value_sizes: map_value_sizes.unwrap_or_default(),
        map_freeze: map_freeze.unwrap_or_default(),
        protect: args.protect,
        programs: cx.loaded,
        links,
        register_struct_ops: args.no_attach_all.is_none(),
        program_targets,
        target_programs,
        initial_values: initial_values.unwrap_or_default(),
        inner_maps: inner_maps.unwrap_or_default(),
        params: params.unwrap_or_default(),
    })
}

/// `PATH_MAX`: the longest path the kernel reads for `BPF_OBJ_GET`, its NUL included.
const PATH_MAX: usize = 4096;

/// The sections `attach_target(...)` completes, for error messages.
const BTF_SECTIONS: &str =
    "`fentry`, `fexit`, `fmod_ret`, `lsm`, `lsm_cgroup`, `iter` and `tp_btf` \
     (and their sleepable `.s` forms)";

/// What is wrong with `target` as the attach target of a program of `attach_type`, if
/// anything: it is a kernel function's, hook's, iterator's or tracepoint's name (a C
/// identifier), optionally `module:`-qualified, as libbpf's `find_kernel_btf_id`
/// takes it, and without the prefix libbpf adds itself.
fn target_problem(target: &str, attach_type: Option<AttachType>) -> Option<String> {
    let function = target.split_once(':').map_or(target, |(_, f)| f);
    let identifier = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let module_ok = target.split_once(':').is_none_or(|(m, _)| {
        !m.is_empty()
            && m.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if !identifier(function) || !module_ok {
        return Some(
            "is not a name the kernel's BTF can hold: give a function, LSM hook, iterator or \
             tracepoint name (a C identifier), optionally `module:name`"
                .into(),
        );
    }
    let (prefix, what) = match attach_type {
        Some(AttachType::TraceRawTp) => ("btf_trace_", "tracepoint"),
        Some(AttachType::LsmMac | AttachType::LsmCgroup) => ("bpf_lsm_", "LSM hook"),
        Some(AttachType::TraceIter) => ("bpf_iter_", "iterator"),
        _ => return None,
    };
    function.strip_prefix(prefix).map(|rest| {
        format!(
            "starts with `{prefix}`, which libbpf adds itself: give the {what}'s name, `{rest}`"
        )
    })
}

/// Per map: whether `freeze(...)` or `freeze_all` freezes it once loaded. `freeze_all`
/// skips the maps [`kinds::freeze_problem`] names; `freeze(...)` naming one is an error.
fn frozen(args: &Args, model: &Model) -> syn::Result<Vec<bool>> {
    listed_twice(&args.freeze, "freeze")?;
    if let (Some(all), Some(first)) = (&args.freeze_all, args.freeze.first()) {
        let mut e = syn::Error::new(
            first.span(),
            "`freeze(...)` names maps, but `freeze_all` already freezes every map that can \
             be frozen: give one of the two",
        );
        e.combine(syn::Error::new(all.span(), "`freeze_all` is given here"));
        return Err(e);
    }
    let map_names: Vec<&str> = model
        .maps
        .iter()
        .map(|m| m.name.trim_start_matches('.'))
        .collect();
    let mut out = vec![args.freeze_all.is_some(); model.maps.len()];
    if args.freeze_all.is_some() {
        for (m, f) in model.maps.iter().zip(&mut out) {
            *f = kinds::freeze_problem(m).is_none();
        }
        return Ok(out);
    }
    let mut errors: Option<syn::Error> = None;
    for id in &args.freeze {
        let e = match map_index(model, &id.to_string()) {
            None => unknown(id, "map", &map_names),
            Some(i) => match kinds::freeze_problem(&model.maps[i]) {
                None => {
                    out[i] = true;
                    continue;
                }
                Some(why) => {
                    syn::Error::new(id.span(), format!("`freeze({id})` makes no sense: {why}"))
                }
            },
        };
        match &mut errors {
            Some(all) => all.combine(e),
            None => errors = Some(e),
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The sizes an option of `MAP = N` pairs gives (`max_entries(...)`, `value_size(...)`),
/// by map index: each map one the object has, `check`ed, and sized once.
fn given_sizes(
    sizes: &[(Ident, syn::LitInt)],
    option: &str,
    model: &Model,
    check: impl Fn(&Ident, &MapModel) -> syn::Result<()>,
) -> syn::Result<HashMap<usize, u32>> {
    let map_names: Vec<&str> = model
        .maps
        .iter()
        .map(|m| m.name.trim_start_matches('.'))
        .collect();
    let mut given = HashMap::new();
    for (id, n) in sizes {
        let i = map_index(model, &id.to_string()).ok_or_else(|| unknown(id, "map", &map_names))?;
        check(id, &model.maps[i])?;
        if given.insert(i, n.base10_parse()?).is_some() {
            return Err(syn::Error::new(
                id.span(),
                format!("`{id}` is sized twice in `{option}(...)`"),
            ));
        }
    }
    Ok(given)
}

/// Each map's `max_entries` in the table: the object's, or the attribute's
/// `max_entries(...)`, after the loader's own rules (`kinds::entries`).
fn entries(args: &Args, model: &Model) -> syn::Result<Vec<u32>> {
    let given = given_sizes(&args.max_entries, "max_entries", model, |_, _| Ok(()))?;
    let mut out = Vec::new();
    for (i, m) in model.maps.iter().enumerate() {
        let n = given.get(&i).copied().unwrap_or(m.max_entries);
        let sized = crate::model::kinds::entries(m.map_type, n).map_err(|()| {
            syn::Error::new(
                args.obj.span(),
                format!(
                    "map `{0}` ({1}) has max_entries 0: its object leaves the size to its \
                     loader. Give it with `max_entries({2} = N)`",
                    m.name,
                    crate::model::kinds::map_type_name(m.map_type),
                    m.name.trim_start_matches('.')
                ),
            )
        })?;
        if let Some(inner) = &m.inner {
            crate::model::kinds::entries(inner.map_type, inner.max_entries).map_err(|()| {
                syn::Error::new(
                    args.obj.span(),
                    format!(
                        "the inner map of `{}` has max_entries 0, which a map of maps cannot \
                         take: set `__uint(max_entries, N)` in its definition",
                        m.name
                    ),
                )
            })?;
        }
        out.push(sized.unwrap_or(0));
    }
    Ok(out)
}

/// The types `prog_type(...)` gives, by program name, for `model::read_typed`: each a
/// `BPF_PROG_TYPE_*` this crate knows, each program typed once.
pub fn given_prog_types(args: &Args) -> syn::Result<Vec<(String, bpf_preload_uapi::ProgType)>> {
    use bpf_preload_uapi::ProgType;
    let mut out: Vec<(String, ProgType)> = Vec::new();
    for (program, ty) in &args.prog_type {
        let name = ty.to_string();
        let Some(&t) = ProgType::ALL.iter().find(|t| t.name() == name) else {
            let names = ProgType::ALL.iter().map(|t| t.name());
            let hint = match closest(&name, names) {
                Some(c) => format!("; did you mean `{c}`?"),
                None => String::new(),
            };
            return Err(syn::Error::new(
                ty.span(),
                format!("`{name}` is not a program type (`BPF_PROG_TYPE_...`){hint}"),
            ));
        };
        if out.iter().any(|(p, _)| program == p) {
            return Err(syn::Error::new(
                program.span(),
                format!("`{program}` is given two types in `prog_type(...)`"),
            ));
        }
        out.push((program.to_string(), t));
    }
    Ok(out)
}

/// Each program `prog_type(...)` names is one of the object's.
fn typed_programs_exist(args: &Args, model: &Model) -> syn::Result<()> {
    let names: Vec<&str> = model.programs.iter().map(|p| p.name.as_str()).collect();
    for (program, _) in &args.prog_type {
        if !names.contains(&program.to_string().as_str()) {
            return Err(unknown(program, "program", &names));
        }
    }
    Ok(())
}

/// Each map's value size in the table: the object's, or the attribute's
/// `value_size(...)`, which sizes a map declared without a value type (`__uint(key_size,
/// ...)` alone, as libbpf-tools' stack trace maps), as its loader does with libbpf's
/// `bpf_map__set_value_size()`. A map whose object leaves its value size to the loader
/// without one given is an error that says how to give it.
fn value_sizes(args: &Args, model: &Model) -> syn::Result<Vec<u32>> {
    use bpf_preload_uapi::MapType::{self, *};
    let given = given_sizes(&args.value_size, "value_size", model, |id, m| {
        // Values the loader or the kernel lays out: fds, ids, a struct_ops struct, a
        // section's bytes, or a BTF type the size must match.
        let fixed = m.internal
            || m.struct_ops.is_some()
            || m.btf_value_type_id != 0
            || is_outer(m.map_type)
            || matches!(
                MapType::from_u32(m.map_type),
                Some(ProgArray | PerfEventArray | CgroupArray | Ringbuf | UserRingbuf | Arena)
            );
        if !fixed {
            return Ok(());
        }
        Err(syn::Error::new(
            id.span(),
            format!(
                "`value_size(...)` sizes a map declared without a value type \
                 (`__uint(value_size, ...)` or none); `{}` ({}) has its value laid out by its \
                 type, its section or its BTF type",
                m.name,
                crate::model::kinds::map_type_name(m.map_type)
            ),
        ))
    })?;
    let mut out = Vec::new();
    for (i, m) in model.maps.iter().enumerate() {
        let size = given.get(&i).copied().unwrap_or(m.value_size);
        let needs_value = matches!(
            MapType::from_u32(m.map_type),
            Some(Hash | Array | PercpuHash | PercpuArray | StackTrace | LruHash | LruPercpuHash)
        );
        if size == 0 && needs_value && !m.internal {
            return Err(syn::Error::new(
                args.obj.span(),
                format!(
                    "map `{0}` ({1}) has value_size 0: its object leaves the size of its \
                     values to its loader. Give it with `value_size({2} = N)`",
                    m.name,
                    crate::model::kinds::map_type_name(m.map_type),
                    m.name.trim_start_matches('.')
                ),
            ));
        }
        out.push(size);
    }
    Ok(out)
}

/// Whether a map of `map_type` is a map of maps.
fn is_outer(map_type: u32) -> bool {
    use bpf_preload_uapi::{BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS};
    matches!(
        map_type,
        BPF_MAP_TYPE_ARRAY_OF_MAPS | BPF_MAP_TYPE_HASH_OF_MAPS
    )
}

/// Why the kernel refuses maps of `map_type` as inner maps (`bpf_map_meta_alloc`),
/// if it does.
fn not_inner(map_type: u32) -> Option<&'static str> {
    use bpf_preload_uapi::*;
    match map_type {
        BPF_MAP_TYPE_ARRAY_OF_MAPS | BPF_MAP_TYPE_HASH_OF_MAPS => Some("maps of maps do not nest"),
        BPF_MAP_TYPE_PROG_ARRAY
        | BPF_MAP_TYPE_CGROUP_STORAGE
        | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
        | BPF_MAP_TYPE_STRUCT_OPS => Some("the kernel takes no such map as an inner map"),
        _ => None,
    }
}

/// The inner map of every map of maps whose object declares none, from
/// `inner_map(OUTER = MAP)` (another map's definition, as a product's loader passes
/// `bpf_map__fd(template)` to `bpf_map__set_inner_map_fd()`) or `inner_map(OUTER = {
/// ... })` (a definition). `entries` are the maps' sizes in the table.
fn inner_maps(args: &Args, model: &Model, entries: &[u32]) -> syn::Result<Vec<Option<MapModel>>> {
    let map_names: Vec<&str> = model
        .maps
        .iter()
        .map(|m| m.name.trim_start_matches('.'))
        .collect();
    let mut out: Vec<Option<MapModel>> = vec![None; model.maps.len()];
    for (outer_id, given) in &args.inner_map {
        let i = map_index(model, &outer_id.to_string())
            .ok_or_else(|| unknown(outer_id, "map", &map_names))?;
        let outer = &model.maps[i];
        if !is_outer(outer.map_type) {
            return Err(syn::Error::new(
                outer_id.span(),
                format!(
                    "`inner_map({outer_id} = ...)`: `{}` is a {}, not a map of maps \
                     (BPF_MAP_TYPE_ARRAY_OF_MAPS or BPF_MAP_TYPE_HASH_OF_MAPS)",
                    outer.name,
                    kinds::map_type_name(outer.map_type)
                ),
            ));
        }
        if outer.inner.is_some() {
            return Err(syn::Error::new(
                outer_id.span(),
                format!(
                    "`inner_map({outer_id} = ...)`: `{}` declares its inner map already \
                     (`__array(values, ...)`)",
                    outer.name
                ),
            ));
        }
        if out[i].is_some() {
            return Err(syn::Error::new(
                outer_id.span(),
                format!("`{outer_id}` is given two inner maps in `inner_map(...)`"),
            ));
        }
        let name = format!("{}.inner", outer.name);
        let inner = match given {
            InnerMap::Map(id) => {
                let j = map_index(model, &id.to_string())
                    .ok_or_else(|| unknown(id, "map", &map_names))?;
                let template = &model.maps[j];
                if let Some(why) = not_inner(template.map_type) {
                    return Err(syn::Error::new(
                        id.span(),
                        format!(
                            "`{id}` cannot be the inner map of `{}`: it is a {} ({why})",
                            outer.name,
                            kinds::map_type_name(template.map_type)
                        ),
                    ));
                }
                MapModel {
                    name,
                    internal: false,
                    max_entries: entries[j],
                    initial_value: None,
                    freeze: false,
                    inner: None,
                    slots: Vec::new(),
                    kconfig: Vec::new(),
                    struct_ops: None,
                    globals: Vec::new(),
                    shared: false,
                    ..template.clone()
                }
            }
            InnerMap::Definition { brace, fields } => definition(name, *brace, fields)?,
        };
        out[i] = Some(inner);
    }
    for (m, inner) in model.maps.iter().zip(&out) {
        if is_outer(m.map_type) && m.inner.is_none() && inner.is_none() {
            let key = m.name.trim_start_matches('.');
            return Err(syn::Error::new(
                args.obj.span(),
                format!(
                    "map `{0}` is a map of maps without its inner map definition: declare it \
                     in the outer one, e.g. `__array(values, struct inner_map);`, or give it \
                     as its loader would (libbpf's bpf_map__set_inner_map_fd()) with \
                     `inner_map({key} = MAP)` (another map of the object) or `inner_map({key} = \
                     {{ type = BPF_MAP_TYPE_HASH, key_size = 4, value_size = 8, max_entries = \
                     64 }})`",
                    m.name
                ),
            ));
        }
    }
    Ok(out)
}

/// The inner map `inner_map(OUTER = { ... })` defines: `type`, `key_size`,
/// `value_size` and `max_entries` (as the kernel's rules for the type want them),
/// and `map_flags` (0 if left out). It has no BTF types.
fn definition(
    name: String,
    brace: Span,
    fields: &[(Ident, DefinitionValue)],
) -> syn::Result<MapModel> {
    const FIELDS: [&str; 5] = ["type", "key_size", "value_size", "max_entries", "map_flags"];
    let mut values: HashMap<&str, (u32, Span)> = HashMap::new();
    for (field, value) in fields {
        let key = field.to_string();
        let Some(&known) = FIELDS.iter().find(|f| **f == key) else {
            let hint = closest(&key, FIELDS)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            return Err(syn::Error::new(
                field.span(),
                format!(
                    "no field `{key}` in an inner map's definition; {hint}its fields: {}",
                    FIELDS.join(", ")
                ),
            ));
        };
        let n = match (known, value) {
            ("type", DefinitionValue::Name(id)) => {
                let name = id.to_string();
                let ty = bpf_preload_uapi::MapType::ALL
                    .iter()
                    .find(|t| t.name() == name)
                    .ok_or_else(|| {
                        let names = bpf_preload_uapi::MapType::ALL.iter().map(|t| t.name());
                        let hint = closest(&name, names)
                            .map(|c| format!("; did you mean `{c}`?"))
                            .unwrap_or_default();
                        syn::Error::new(id.span(), format!("`{name}` is not a map type{hint}"))
                    })?;
                *ty as u32
            }
            ("type", DefinitionValue::Number(n)) => {
                return Err(syn::Error::new(
                    n.span(),
                    "`type` takes a map type's name: `type = BPF_MAP_TYPE_HASH`",
                ))
            }
            (_, DefinitionValue::Number(n)) => n
                .base10_parse::<u32>()
                .map_err(|_| syn::Error::new(n.span(), format!("`{known}` must fit in 32 bits")))?,
            (_, DefinitionValue::Name(id)) => {
                return Err(syn::Error::new(
                    id.span(),
                    format!("`{known}` takes a number: `{known} = 8`"),
                ))
            }
        };
        if values.insert(known, (n, field.span())).is_some() {
            return Err(syn::Error::new(
                field.span(),
                format!("`{known}` is given twice"),
            ));
        }
    }
    let get = |f: &str| {
        values.get(f).map(|(n, _)| *n).ok_or_else(|| {
            syn::Error::new(
                brace,
                format!("the inner map's definition lacks `{f} = ...`: it needs type, key_size, value_size and max_entries"),
            )
        })
    };
    let map_type = get("type")?;
    if let Some(why) = not_inner(map_type) {
        return Err(syn::Error::new(
            values["type"].1,
            format!(
                "a {} cannot be an inner map: {why}",
                kinds::map_type_name(map_type)
            ),
        ));
    }
    let max_entries = get("max_entries")?;
    kinds::entries(map_type, max_entries).map_err(|()| {
        syn::Error::new(
            values["max_entries"].1,
            format!(
                "a {} needs max_entries above 0",
                kinds::map_type_name(map_type)
            ),
        )
    })?;
    Ok(MapModel {
        name,
        internal: false,
        map_type,
        key_size: get("key_size")?,
        value_size: get("value_size")?,
        max_entries,
        map_flags: values.get("map_flags").map_or(0, |(n, _)| *n),
        map_extra: 0,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
        initial_value: None,
        freeze: false,
        inner: None,
        slots: Vec::new(),
        kconfig: Vec::new(),
        struct_ops: None,
        globals: Vec::new(),
        shared: false,
    })
}
