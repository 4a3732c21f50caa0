//! The connector's `templates` interface as a component, built on `gtm-templates` like the
//! bundled host's native one, so every host renders a mapping the same way. The portable build
//! composes it in; a host that implements `host` itself can plug it in too.

mod bindings {
    wit_bindgen::generate!({
        world: "iga:gotomeeting-portable/templates",
        path: ["../../wit", "../wit"],
        generate_all,
        pub_export_macro: true,
    });
}

use bindings::exports::iga::gotomeeting::templates::Guest;

struct Templates;

impl Guest for Templates {
    fn check(template: String) -> Result<(), String> {
        gtm_templates::check(&template)
    }

    fn render(template: String, identity: Vec<(String, String)>) -> Result<String, String> {
        gtm_templates::render(&template, &identity)
    }
}

bindings::export!(Templates with_types_in bindings);
