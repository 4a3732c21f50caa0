//! The connector's `templates` interface (templates and patterns) as a component, built on
//! `gtm-templates` like the bundled host's native one, so every host renders and checks a mapping
//! the same way. The portable build composes it in; a host that implements `host` itself can plug
//! it in too.

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

    fn check_pattern(pattern: String) -> Result<(), String> {
        gtm_templates::check_pattern(&pattern)
    }

    fn matches_pattern(pattern: String, value: String) -> Result<bool, String> {
        gtm_templates::matches_pattern(&pattern, &value)
    }
}

bindings::export!(Templates with_types_in bindings);
