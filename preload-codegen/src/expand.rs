//! Turns the model and plan into tokens: one `static` table and a one-line trait impl.
//! No per-program code: everything that is the same for every object is in the runtime.

use std::ffi::CString;
use std::path::Path;

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ItemStruct;

use crate::model::{kinds, AttachModel, ExternKind, KconfigKind, MapModel, Model, SlotTarget};
use crate::validate::Plan;
use bpf_preload_uapi::values::TextKind;
use bpf_preload_uapi::MapType;

// The table's types have a C layout (see the runtime's `table::layout`): strings and
// lists are made by their const constructors.

/// A `List<u8>` of `data`.
fn bytes(data: &[u8]) -> TokenStream {
    let data = Literal::byte_string(data);
    quote!(::bpf_preload::List::new(#data))
}

/// A `List` of the items.
fn list(items: impl Iterator<Item = TokenStream>) -> TokenStream {
    quote!(::bpf_preload::List::new(&[#(#items),*]))
}

/// A `Str`.
fn text(s: &str) -> TokenStream {
    quote!(::bpf_preload::Str::new(#s))
}

/// A `CStrRef`.
fn cstr(s: &str) -> TokenStream {
    // Names from an ELF string table hold no NUL; drop any rather than panic.
    let s = Literal::c_string(&CString::new(s.replace('\0', "")).unwrap_or_default());
    quote!(::bpf_preload::CStrRef::new(#s))
}

/// An `OptIndex`.
fn opt_index(i: Option<usize>) -> TokenStream {
    match i.and_then(|i| u32::try_from(i).ok()) {
        Some(i) => quote!(::bpf_preload::OptIndex::some(#i)),
        None => quote!(::bpf_preload::OptIndex::NONE),
    }
}

/// A constant of the runtime's `abi` module, by name.
fn abi(name: &str) -> TokenStream {
    let ident = Ident::new(name, Span::call_site());
    quote!(::bpf_preload::abi::#ident)
}

fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => {
            let s = text(s);
            quote!(::core::option::Option::Some(&#s))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// One `::bpf_preload::Map`; `extra` holds the fields only outer maps have (an inner
/// map gets none: no inner map, no slots).
fn map(
    m: &MapModel,
    kernel_name: &str,
    max_entries: u32,
    pin: Option<&str>,
    frozen_once_loaded: bool,
    extra: TokenStream,
    struct_ops: TokenStream,
) -> TokenStream {
    let (map_name, kernel_name) = (text(&m.name), text(kernel_name));
    // `model::read` accepted only these types.
    let map_type = MapType::from_u32(m.map_type).unwrap_or(MapType::Unspec);
    let map_type = abi(map_type.name());
    let (key_size, value_size) = (m.key_size, m.value_size);
    let (map_flags, map_extra, shared) = (m.map_flags, m.map_extra, m.shared);
    let freeze = match (m.freeze, frozen_once_loaded) {
        (true, _) => quote!(::bpf_preload::Freeze::Initialised),
        (false, true) => quote!(::bpf_preload::Freeze::Loaded),
        (false, false) => quote!(::bpf_preload::Freeze::Never),
    };
    // The kernel refuses BTF key and value types for these (libbpf drops them too).
    // A key type without a value type is refused too: libbpf retries without BTF.
    let typed = m.btf_value_type_id != 0 || m.btf_key_type_id == 0;
    let (key_id, value_id) = if kinds::takes_btf_types(m.map_type) && typed {
        (m.btf_key_type_id, m.btf_value_type_id)
    } else {
        (0, 0)
    };
    let initial = match &m.initial_value {
        Some(v) => {
            let v = bytes(v);
            quote!(::core::option::Option::Some(&#v))
        }
        None => quote!(::core::option::Option::None),
    };
    let kconfig = m.kconfig.iter().map(|v| {
        let (name, offset, size, weak) = (text(&v.name), v.offset, v.size, v.weak);
        let kind = match v.kind {
            KconfigKind::Bool => quote!(Bool),
            KconfigKind::Tristate => quote!(Tristate),
            KconfigKind::Char => quote!(Char),
            KconfigKind::Int { signed } => quote!(Int { signed: #signed }),
            KconfigKind::CharArray => quote!(CharArray),
        };
        quote! {
            ::bpf_preload::KconfigVar {
                name: #name,
                offset: #offset,
                size: #size,
                kind: ::bpf_preload::KconfigKind::#kind,
                weak: #weak,
            }
        }
    });
    let (inner_and_slots, pin) = if extra.is_empty() {
        (
            quote!(inner: ::core::option::Option::None, slots: ::bpf_preload::List::new(&[]),),
            opt_str(None),
        )
    } else {
        (extra, opt_str(pin))
    };
    quote! {
        ::bpf_preload::Map {
            name: #map_name,
            kernel_name: #kernel_name,
            map_type: #map_type,
            key_size: #key_size,
            value_size: #value_size,
            max_entries: #max_entries,
            map_flags: #map_flags,
            shared: #shared,
            map_extra: #map_extra,
            btf_key_type_id: #key_id,
            btf_value_type_id: #value_id,
            initial_value: #initial,
            freeze: #freeze,
            pin: #pin,
            #inner_and_slots
            kconfig: ::bpf_preload::List::new(&[#(#kconfig),*]),
            struct_ops: #struct_ops,
        }
    }
}

/// `obj_path` is where the object was read from: an `include_bytes!` of it makes cargo
/// rebuild the crate when the object changes (the bytes themselves are not kept).
/// `obj_span` is the `obj = "..."` string's: the checks that depend on how the crate is
/// built point there.
pub fn expand(
    item: &ItemStruct,
    obj_path: &Path,
    obj_span: Span,
    model: &Model,
    plan: &Plan,
) -> TokenStream {
    let ty = &item.ident;
    let name = text(&plan.name);
    let path = obj_path.to_string_lossy();
    let btf = bytes(&model.btf);
    let protect = plan.protect;

    let maps = model.maps.iter().enumerate().map(|(i, m)| {
        let (kernel_name, pin) = (&plan.map_kernel_names[i], plan.map_pins[i].as_deref());
        let slots = m.slots.iter().filter_map(|s| {
            let index = s.index;
            let target = match &s.target {
                SlotTarget::Map(name) => {
                    let i = model.maps.iter().position(|m| &m.name == name)?;
                    quote!(::bpf_preload::SlotTarget::Map(#i))
                }
                SlotTarget::Program(name) => {
                    let p = model.programs.iter().position(|p| &p.name == name)?;
                    // A slot of a program the table does not hold stays empty.
                    let i = plan.table_program(p)?;
                    quote!(::bpf_preload::SlotTarget::Program(#i))
                }
            };
            Some(quote!(::bpf_preload::Slot { index: #index, target: #target }))
        });
        // The object's own `__array(values, ...)`, or the attribute's `inner_map(...)`.
        let inner = match m.inner.as_deref().or(plan.inner_maps[i].as_ref()) {
            Some(inner) => {
                let name = bpf_preload_model::names::inner_map_kernel_name(kernel_name);
                // `validate` checked that the loader's rules size it.
                let entries = kinds::entries(inner.map_type, inner.max_entries)
                    .ok()
                    .flatten()
                    .unwrap_or(inner.max_entries);
                let none = quote!(::core::option::Option::None);
                let inner = map(inner, &name, entries, None, false, quote!(), none);
                quote!(::core::option::Option::Some(&#inner))
            }
            None => quote!(::core::option::Option::None),
        };
        let slots = list(slots);
        let extra = quote! {
            inner: #inner,
            slots: #slots,
        };
        let struct_ops = match &m.struct_ops {
            Some(ops) => {
                let members = ops.members.iter().map(|mm| {
                    let (name, offset, size, kind) = (text(&mm.name), mm.offset, mm.size, mm.kind);
                    // `model::read` loads every program a created map uses.
                    let program = opt_index(
                        mm.program
                            .as_ref()
                            .and_then(|p| model.programs.iter().position(|q| &q.name == p))
                            .and_then(|p| plan.table_program(p)),
                    );
                    quote! {
                        ::bpf_preload::StructOpsMember {
                            name: #name,
                            offset: #offset,
                            size: #size,
                            kind: #kind,
                            program: #program,
                        }
                    }
                });
                let (type_name, data) = (text(&ops.type_name), bytes(&ops.data));
                let (register, members) = (plan.register_struct_ops, list(members));
                quote!(::core::option::Option::Some(&::bpf_preload::StructOps {
                    type_name: #type_name,
                    data: #data,
                    members: #members,
                    register: #register,
                }))
            }
            None => quote!(::core::option::Option::None),
        };
        // The object's initial value with the values of `set(...)` written in, and the
        // value size `value_size(...)` gives.
        let m = &MapModel {
            initial_value: plan.initial_values[i].clone(),
            value_size: plan.map_value_sizes[i],
            ..m.clone()
        };
        map(
            m,
            kernel_name,
            plan.map_entries[i],
            pin,
            plan.map_freeze[i],
            extra,
            struct_ops,
        )
    });

    let externs = model.externs.iter().map(|e| {
        let (name, weak) = (text(&e.name), e.weak);
        let kind = match e.kind {
            ExternKind::Kfunc => quote!(Kfunc),
            ExternKind::Ksym => quote!(Ksym),
            ExternKind::KsymAddress => quote!(KsymAddress),
        };
        quote!(::bpf_preload::Extern { name: #name, kind: ::bpf_preload::ExternKind::#kind, weak: #weak })
    });

    let programs = plan.programs.iter().map(|&i| {
        let p = &model.programs[i];
        let (prog_name, section) = (text(&p.name), text(&p.section));
        let prog_type = abi(p.kind.prog_type.name());
        let attach_type = match p.kind.expected_attach_type {
            Some(t) => abi(t.name()),
            None => quote!(0),
        };
        let attach_btf = match &plan.program_targets[i] {
            Some((target, kind)) => {
                let (kind, target) = (abi(kind.name()), text(target));
                let program = opt_str(plan.target_programs[i].as_deref());
                quote!(::core::option::Option::Some(&::bpf_preload::BtfTarget {
                    name: #target,
                    kind: #kind,
                    program: #program,
                }))
            }
            None => quote!(::core::option::Option::None),
        };
        let license = cstr(&p.license);
        let flags = if p.kind.prog_flags.is_empty() {
            quote!(0)
        } else {
            let flags = p.kind.prog_flags.iter().map(|f| abi(f));
            quote!(#(#flags)|*)
        };
        let (insns, func_info) = (bytes(&p.insns), bytes(&p.func_info));
        let (line_info, core_relos) = (bytes(&p.line_info), bytes(&p.core_relos));
        let uses = list(
            p.externs
                .iter()
                .map(|(insn, ext)| quote!(::bpf_preload::ExternUse { insn: #insn, ext: #ext })),
        );
        let pin = opt_str(plan.program_pins[i].as_deref());
        quote! {
            ::bpf_preload::Program {
                name: #prog_name,
                section: #section,
                prog_type: #prog_type,
                expected_attach_type: #attach_type,
                attach_btf: #attach_btf,
                license: #license,
                prog_flags: #flags,
                insns: #insns,
                func_info: #func_info,
                line_info: #line_info,
                core_relos: #core_relos,
                externs: #uses,
                pin: #pin,
            }
        }
    });

    let links = plan.links.iter().map(|l| {
        let program = plan.table_program(l.program).unwrap_or_default();
        let attach = match &l.attach {
            AttachModel::LinkCreate => quote!(::bpf_preload::Attach::LinkCreate),
            AttachModel::RawTracepoint(None) => {
                quote!(::bpf_preload::Attach::RawTracepoint(
                    ::core::option::Option::None
                ))
            }
            AttachModel::RawTracepoint(Some(tp)) => {
                let tp = cstr(tp);
                quote!(::bpf_preload::Attach::RawTracepoint(::core::option::Option::Some(&#tp)))
            }
            AttachModel::Tracepoint { category, name } => {
                let (category, name) = (text(category), text(name));
                quote!(::bpf_preload::Attach::Tracepoint(&::bpf_preload::TracepointName {
                    category: #category,
                    name: #name,
                }))
            }
        };
        let pin = opt_str(l.pin.as_deref());
        quote! {
            ::bpf_preload::Link { program: #program, attach: #attach, pin: #pin }
        }
    });

    // Links only user space can make: a module's build (the runtime's feature
    // `kernel`) fails on these, with the reason, at const-evaluation time.
    let user_space_only = plan.links.iter().filter_map(|l| {
        let reason = l.user_space_only.as_deref()?;
        Some(quote_spanned! {obj_span=>
            const _: () = ::bpf_preload::__private::user_space_attach_only(#reason);
        })
    });
    // The table holds little-endian instructions and BTF, as the object does.
    let byte_order = format!(
        "`{}` is little-endian BPF, but this crate is being built for a big-endian target: \
         bpf-preload supports little-endian targets only",
        obj_path.file_name().unwrap_or_default().to_string_lossy()
    );
    let byte_order = quote_spanned! {obj_span=>
        #[cfg(target_endian = "big")]
        ::core::compile_error!(#byte_order);
    };

    // `params(...)`: the variables a loader may give values as text.
    let params = plan.params.iter().map(|p| {
        let (param_name, c_type) = (text(&p.name), text(&p.c_type));
        let (map, offset, size) = (p.map, p.offset, p.size);
        let kind = match p.kind {
            TextKind::Int { signed } => quote!(Int { signed: #signed }),
            TextKind::Bool => quote!(Bool),
            TextKind::Enum { signed } => quote!(Enum { signed: #signed }),
            TextKind::Chars => quote!(Chars),
        };
        let enumerators = list(p.enumerators.iter().map(|(name, value)| {
            // Its 64 bits: an unsigned enum's value above i64::MAX is read back as
            // unsigned.
            let (name, value) = (text(name), *value as i64);
            quote!(::bpf_preload::Enumerator { name: #name, value: #value })
        }));
        quote! {
            ::bpf_preload::Param {
                name: #param_name,
                c_type: #c_type,
                map: #map,
                offset: #offset,
                size: #size,
                kind: ::bpf_preload::TextKind::#kind,
                enumerators: #enumerators,
            }
        }
    });
    let params = list(params);
    let (maps, programs) = (list(maps), list(programs));
    let (links, externs) = (list(links), list(externs));
    quote! {
        #item

        const _: () = {
            #byte_order
            #(#user_space_only)*

            // Rebuild when the object changes; the bytes are not kept.
            const _: &[u8] = ::core::include_bytes!(#path);

            static OBJECT: ::bpf_preload::Object = ::bpf_preload::Object {
                layout: ::bpf_preload::TABLE_LAYOUT,
                name: #name,
                btf: #btf,
                maps: #maps,
                programs: #programs,
                links: #links,
                externs: #externs,
                protect: #protect,
                params: #params,
            };

            impl ::bpf_preload::Preload for #ty {
                const OBJECT: &'static ::bpf_preload::Object = &OBJECT;
            }
        };
    }
}
