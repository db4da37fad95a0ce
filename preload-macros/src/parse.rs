//! The attribute's arguments: `#[bpf_preload(obj = "x.bpf.o", name = "x", ...)]`.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token};

/// Every option the attribute accepts, for error messages.
pub const OPTIONS: &str =
    "obj = \"...\", name = \"...\", pin_as(NAME = \"...\", ...), no_pin(NAME, ...), \
     no_attach(PROGRAM, ...), pin_programs, pin_data";

pub struct Args {
    /// Path of the compiled BPF object, relative to the file holding the attribute.
    pub obj: LitStr,
    /// The object's name (bpffs directory, module name); defaults to the file stem.
    pub name: Option<LitStr>,
    /// Pin names replacing the default for a link (keyed by its program) or a map.
    pub pin_as: Vec<(Ident, LitStr)>,
    /// Links or maps not to pin.
    pub no_pin: Vec<Ident>,
    /// Programs to load but not attach.
    pub no_attach: Vec<Ident>,
    /// Also pin every program.
    pub pin_programs: bool,
    /// Also pin the `.data`, `.rodata` and `.bss` maps.
    pub pin_data: bool,
}

/// `key = "value"` inside `pin_as(...)`.
struct Rename(Ident, LitStr);

impl Parse for Rename {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.parse()?;
        input.parse::<Token![=]>()?;
        Ok(Rename(key, input.parse()?))
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &Ident) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate option `{key}`"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut obj = None;
        let mut name = None;
        let mut pin_as = None;
        let mut no_pin = None;
        let mut no_attach = None;
        let mut pin_programs = None;
        let mut pin_data = None;

        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "obj" | "name" => {
                    input.parse::<Token![=]>()?;
                    let value: LitStr = input.parse()?;
                    let slot = if key == "obj" { &mut obj } else { &mut name };
                    set_once(slot, value, &key)?;
                }
                "pin_as" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let list = Punctuated::<Rename, Token![,]>::parse_terminated(&content)?;
                    let list = list.into_iter().map(|Rename(k, v)| (k, v)).collect();
                    set_once(&mut pin_as, list, &key)?;
                }
                "no_pin" | "no_attach" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let list = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                    let slot = if key == "no_pin" {
                        &mut no_pin
                    } else {
                        &mut no_attach
                    };
                    set_once(slot, list.into_iter().collect(), &key)?;
                }
                "pin_programs" => set_once(&mut pin_programs, true, &key)?,
                "pin_data" => set_once(&mut pin_data, true, &key)?,
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{other}`; valid options: {OPTIONS}"),
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }

        let obj = obj.ok_or_else(|| {
            input.error(
                "missing `obj = \"path/to/object.bpf.o\"`: the compiled BPF object to preload",
            )
        })?;
        Ok(Args {
            obj,
            name,
            pin_as: pin_as.unwrap_or_default(),
            no_pin: no_pin.unwrap_or_default(),
            no_attach: no_attach.unwrap_or_default(),
            pin_programs: pin_programs.unwrap_or(false),
            pin_data: pin_data.unwrap_or(false),
        })
    }
}
