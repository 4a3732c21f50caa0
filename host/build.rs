//! Builds the guest component for wasm32-wasip2 with a nested cargo (the pattern of wasmtime's
//! test-programs and waki) and tells the host crate where the `.wasm` is, so it can embed it,
//! and what `--version` reports beside the binary's own: the component's SHA-256, the WIT
//! package it implements and the wasmtime it runs on. It also composes the portable build: the
//! component with portable/adapter plugged into its `host` import and portable/templates into
//! its `templates` import (see the README's "Other hosts").

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const TARGET: &str = "wasm32-wasip2";
/// The portable build's file name, in `<target-dir>/guest-component`.
const PORTABLE_FILE: &str = "gtm_connector_portable.wasm";
/// A copy of the component the binary embeds, in `<target-dir>/guest-component`.
const EMBEDDED_COPY_FILE: &str = "gtm_connector.wasm";
/// The templates component alone, for hosts that plug it in themselves.
const TEMPLATES_FILE: &str = "gtm_templates.wasm";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    // Relative to this package, not absolute: a target directory reused by another checkout
    // (CI's cache) must watch that checkout's sources, not the first one's. The workspace's
    // Cargo.toml holds the `guest` profile the component is built with.
    for watched in
        ["guest/src", "guest/Cargo.toml", "retry-after", "templates", "wit", "portable", "Cargo.toml", "Cargo.lock"]
    {
        println!("cargo:rerun-if-changed=../{watched}");
    }

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    require_target(Path::new(&rustc));

    // A target directory of its own: the outer cargo holds the lock on the usual one.
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target_dir = guest_target_dir(&out_dir);
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "--package", "gtm-guest", "--package", "gtm-portable-adapter"])
        .args(["--package", "gtm-templates-component"])
        .args(["--target", TARGET, "--profile", "guest"])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's flags are for the host target, not for wasm.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        command.env_remove(var);
    }
    if env::var_os("CARGO_NET_OFFLINE").is_some() || env::var("CARGO_CFG_OFFLINE").is_ok() {
        command.arg("--offline");
    }
    let status = command.status().expect("failed to run cargo to build the guest component");
    assert!(
        status.success(),
        "building the guest component, the portable adapter and the templates component for {TARGET} failed; \
         see the errors above"
    );

    let built_dir = target_dir.join(TARGET).join("guest");
    let named = with_metadata(&optimize_code(&read_built(&built_dir.join("gtm_guest.wasm")), &out_dir));
    let embedded = out_dir.join("gtm_guest.wasm");
    write(&embedded, &named);
    println!("cargo:rustc-env=GTM_GUEST_WASM={}", embedded.display());
    // The embedded bytes again at a path that does not depend on the build's hash, for
    // bench/first-run.sh to measure what the binary runs.
    write(&target_dir.join(EMBEDDED_COPY_FILE), &named);

    // Beside the guest build, where the README points users to them.
    let templates = read_built(&built_dir.join("gtm_templates_component.wasm"));
    write(&target_dir.join(TEMPLATES_FILE), &templates);
    let portable = compose_portable(&named, read_built(&built_dir.join("gtm_portable_adapter.wasm")), templates);
    let portable_path = target_dir.join(PORTABLE_FILE);
    write(&portable_path, &portable);
    println!("cargo:rustc-env=GTM_PORTABLE_WASM={}", portable_path.display());

    // The first 16 hex digits, as short commit ids are shown: enough to tell builds apart.
    let digest = format!("{:x}", Sha256::digest(&named));
    println!("cargo:rustc-env=GTM_GUEST_SHA256_PREFIX={}", &digest[..16]);
    println!("cargo:rustc-env=GTM_WIT_PACKAGE={}", wit_package(&workspace.join("wit").join("world.wit")));
    println!("cargo:rustc-env=GTM_WASMTIME_VERSION={}", locked_version(&workspace.join("Cargo.lock"), "wasmtime"));
}

/// The component with its code (its first core module, where wasm-component-ld puts the
/// connector's own, before two small shims) run through Binaryen's `wasm-opt -Oz`, which takes
/// about a sixth off what LLVM emits for size: it merges duplicate functions and drops the
/// stack traffic LLVM leaves. Every other section is copied as it is. The module keeps its
/// exports; an import it no longer uses is still in the instance the component passes it.
fn optimize_code(component: &[u8], scratch: &Path) -> Vec<u8> {
    /// The component binary format's id of a core module section.
    const CORE_MODULE: u8 = 1;
    // The preamble: magic, version and layer.
    let (preamble, mut rest) = component.split_at(8);
    let mut out = preamble.to_vec();
    let mut optimized = false;
    while let Some((&id, after_id)) = rest.split_first() {
        let (size, after_size) = read_u32_leb128(after_id);
        let (payload, next) = after_size.split_at(size);
        if id == CORE_MODULE && !optimized {
            let module = wasm_opt(payload, scratch);
            out.push(id);
            write_u32_leb128(&mut out, module.len());
            out.extend_from_slice(&module);
            optimized = true;
        } else {
            out.extend_from_slice(&rest[..rest.len() - next.len()]);
        }
        rest = next;
    }
    assert!(optimized, "the guest component holds no core module");
    out
}

/// `wasm-opt -Oz` on one core module, with exactly the WebAssembly features rustc's
/// wasm32-wasip2 target emits: a module using any other fails to validate and stops the build.
fn wasm_opt(module: &[u8], scratch: &Path) -> Vec<u8> {
    use wasm_opt::{Feature, OptimizationOptions};
    let (input, output) = (scratch.join("guest-core.wasm"), scratch.join("guest-core-optimized.wasm"));
    write(&input, module);
    let mut options = OptimizationOptions::new_optimize_for_size_aggressively();
    options.mvp_features_only();
    for feature in [
        Feature::BulkMemory,
        Feature::MutableGlobals,
        Feature::Multivalue,
        Feature::ReferenceTypes,
        Feature::SignExt,
        Feature::TruncSat,
    ] {
        options.enable_feature(feature);
    }
    options.run(&input, &output).unwrap_or_else(|e| panic!("wasm-opt on the guest's core module: {e}"));
    read_built(&output)
}

/// An unsigned LEB128 number (a section size) and the bytes after it.
fn read_u32_leb128(bytes: &[u8]) -> (usize, &[u8]) {
    let mut value = 0usize;
    for (i, byte) in bytes.iter().enumerate().take(5) {
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return (value, &bytes[i + 1..]);
        }
    }
    panic!("the guest component has a malformed section size");
}

fn write_u32_leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The component with its name, version and description, so any host or registry that reads
/// component metadata (`wasm-tools metadata show`) can tell what it is.
fn with_metadata(component: &[u8]) -> Vec<u8> {
    use wasm_metadata::{AddMetadata, AddMetadataField, Description, Version};
    let mut metadata = AddMetadata::default();
    metadata.name = AddMetadataField::Set("gtm-connector".to_owned());
    metadata.version = AddMetadataField::Set(Version::new(env::var("CARGO_PKG_VERSION").unwrap()));
    metadata.description =
        AddMetadataField::Set(Description::new("GoTo Meeting connector for identity governance (iga:gotomeeting)"));
    metadata.to_wasm(component).expect("adding name and version metadata to the guest component")
}

/// Writes `bytes` to `path` by renaming a finished temporary file over it: a debug and a release
/// build share `<target-dir>/guest-component`, and neither may read the other's half-written file.
fn write(path: &Path, bytes: &[u8]) {
    let temp = path.with_extension(format!("wasm.{}", std::process::id()));
    std::fs::write(&temp, bytes)
        .and_then(|()| std::fs::rename(&temp, path))
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

fn read_built(wasm: &Path) -> Vec<u8> {
    std::fs::read(wasm).unwrap_or_else(|e| panic!("the guest build produced no {}: {e}", wasm.display()))
}

/// The component with the adapter's `host` export plugged into its `host` import and the
/// templates component into its `templates` import: it exports `connector` and imports only WASI
/// (the component's own, plus wasi:config and wasi:keyvalue).
fn compose_portable(component: &[u8], adapter: Vec<u8>, templates: Vec<u8>) -> Vec<u8> {
    use wac_graph::{CompositionGraph, EncodeOptions, plug, types::Package};
    let mut graph = CompositionGraph::new();
    let mut register = |name: &str, bytes: Vec<u8>| {
        let package = Package::from_bytes(name, None, bytes, graph.types_mut())
            .unwrap_or_else(|e| panic!("reading {name} for the portable build: {e:#}"));
        graph.register_package(package).unwrap_or_else(|e| panic!("registering {name} for the portable build: {e:#}"))
    };
    let socket = register("iga:gotomeeting", component.to_vec());
    let adapter = register("iga:gotomeeting-portable", adapter);
    let templates = register("iga:gotomeeting-templates", templates);
    plug(&mut graph, vec![adapter, templates], socket)
        .unwrap_or_else(|e| panic!("plugging the adapter and the templates into the component: {e:#}"));
    graph.encode(EncodeOptions::default()).unwrap_or_else(|e| panic!("encoding the portable build: {e:#}"))
}

/// The `package` a WIT file declares, such as `iga:gotomeeting@0.1.0`.
fn wit_package(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    text.lines()
        .find_map(|line| line.trim().strip_prefix("package ")?.strip_suffix(';').map(str::trim).map(str::to_owned))
        .unwrap_or_else(|| panic!("{} declares no package", file.display()))
}

/// The version of `name` that Cargo.lock pins.
fn locked_version(lock: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(lock).unwrap_or_else(|e| panic!("reading {}: {e}", lock.display()));
    let lock: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", lock.display()));
    let packages = lock.get("package").and_then(toml::Value::as_array).into_iter().flatten();
    packages
        .filter_map(toml::Value::as_table)
        .find(|p| p.get("name").and_then(toml::Value::as_str) == Some(name))
        .and_then(|p| p.get("version")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("Cargo.lock pins no {name}"))
}

/// Fails with the fix when the wasm32-wasip2 standard library is not installed.
fn require_target(rustc: &Path) {
    let sysroot =
        Command::new(rustc).args(["--print", "sysroot"]).output().expect("failed to run rustc --print sysroot");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    let installed = sysroot.join("lib").join("rustlib").join(TARGET);
    if !installed.is_dir() {
        panic!(
            "\n\nThe Rust target {TARGET} is not installed for this toolchain ({}).\n\
             Install it with:\n\n    rustup target add {TARGET}\n\n",
            sysroot.display()
        );
    }
}

/// `<target-dir>/guest-component`, found from OUT_DIR (`<target-dir>/<profile>/build/<pkg>/out`).
fn guest_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(|build| build.parent()?.parent())
        .map(|target| target.join("guest-component"))
        .unwrap_or_else(|| out_dir.join("guest-component"))
}
