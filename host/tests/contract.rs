//! The built component against the published contract in `wit/`: the world declares every
//! interface the component imports, so a host built from `wit/` alone can run it, and the
//! component says what it is. The portable build leaves only WASI for the runtime to supply.

use std::path::PathBuf;

use gtm_host::engine::EMBEDDED_COMPONENT;
use wit_parser::{Resolve, WorldId};

fn published(world: &str) -> (Resolve, WorldId) {
    let wit = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(&wit).expect("wit/ parses, with its WASI dependencies in wit/deps");
    let world = resolve.select_world(&[package], Some(world)).expect("the world is in wit/");
    (resolve, world)
}

#[test]
fn the_built_component_targets_the_published_world() {
    let (resolve, world) = published("connector-component");
    if let Err(e) = wit_component::targets(&resolve, world, EMBEDDED_COMPONENT) {
        panic!("the component does not fit wit/world.wit's connector-component: {e:?}");
    }
}

#[test]
fn the_logic_world_alone_is_not_enough_so_the_check_above_means_something() {
    // Without its WASI imports the world does not describe the component: this is what
    // `targets` catches when the component starts importing an interface wit/ does not declare.
    let (resolve, world) = published("connector-logic");
    let refused = wit_component::targets(&resolve, world, EMBEDDED_COMPONENT).expect_err("WASI imports are undeclared");
    assert!(format!("{refused:?}").contains("wasi:"), "refused for another reason: {refused:?}");
}

#[test]
fn the_component_carries_its_name_and_version() {
    let payload = wasm_metadata::Payload::from_binary(EMBEDDED_COMPONENT).expect("the component's metadata parses");
    let metadata = payload.metadata();
    assert_eq!(metadata.name.as_deref(), Some("gtm-connector"));
    assert_eq!(metadata.version.as_ref().map(ToString::to_string).as_deref(), Some(env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_portable_build_exports_the_connector_and_imports_only_wasi() {
    let bytes = std::fs::read(gtm_host::engine::PORTABLE_COMPONENT_PATH).expect("build.rs wrote the portable build");
    let wit_component::DecodedWasm::Component(resolve, world) =
        wit_component::decode(&bytes).expect("the portable build decodes")
    else {
        panic!("the portable build is not a component");
    };
    let world = &resolve.worlds[world];
    let names = |items: &wit_parser::IndexMap<wit_parser::WorldKey, _>| -> Vec<String> {
        items.keys().map(|key| resolve.name_world_key(key)).collect()
    };
    let (imports, exports) = (names(&world.imports), names(&world.exports));
    assert_eq!(exports, ["iga:gotomeeting/connector@0.1.0"]);
    for wanted in
        ["wasi:config/store@0.2.0-rc.1", "wasi:keyvalue/store@0.2.0-draft", "wasi:http/outgoing-handler@0.2.12"]
    {
        assert!(imports.iter().any(|i| i == wanted), "the portable build does not import {wanted}: {imports:?}");
    }
    // Besides WASI, only the types interface, which has no functions for a runtime to supply.
    let others: Vec<&String> = imports.iter().filter(|i| !i.starts_with("wasi:")).collect();
    assert_eq!(others, ["iga:gotomeeting/types@0.1.0"], "the adapter supplies `host`");
}
