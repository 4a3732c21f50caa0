//! Simulator configuration: the seeded world's size and the behaviour knobs.

/// What to seed and how to behave.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed for every generated value (data, keys, credentials, tokens).
    pub seed: u64,
    /// Seeded users, including the OAuth principal (an admin); at least one is always created.
    pub users: usize,
    /// Seeded groups; later ones nest under earlier ones to form a hierarchy.
    pub groups: usize,
    /// Seeded licenses; seats exceed assignments, and the second and third are nearly full.
    pub licenses: usize,
    /// Behaviour knobs; they can also be changed while running (`Simulator::set_knobs`).
    pub knobs: Knobs,
}

impl SimConfig {
    /// A small account: 50 users, 5 groups, 3 licenses, default knobs.
    pub fn new(seed: u64) -> Self {
        Self::sized(seed, 50, 5, 3)
    }

    /// An account of the given size with default knobs.
    pub fn sized(seed: u64, users: usize, groups: usize, licenses: usize) -> Self {
        SimConfig { seed, users, groups, licenses, knobs: Knobs::default() }
    }
}

/// When the token endpoint hands out a new refresh token on a refresh grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Never: the refresh token lives until it expires.
    Never,
    /// On every refresh grant.
    Always,
    /// Once the presented token has less than this many seconds left (GoTo: "near expiry").
    WhenRemainingBelowSecs(u64),
}

/// How `GET /oauth/authorize` answers, standing in for the administrator at GoTo's consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    /// Consents at once: redirects back with a single-use code.
    Grant,
    /// Declines: redirects back with `error=access_denied`.
    Deny,
    /// Redirects back with a code but another `state` than the one sent, as a forged or stale
    /// redirect would.
    WrongState,
    /// Shows the consent page and never redirects, as when the administrator walks away.
    Ignore,
}

/// Runtime behaviour switches. Defaults follow the reference (§8).
#[derive(Clone, Debug)]
pub struct Knobs {
    /// Token-bucket rate per API (admin, identity and OAuth counted separately); `None` = unlimited.
    pub rate_limit_per_sec: Option<u32>,
    /// `Retry-After` seconds on 429; `None` omits the header.
    pub retry_after_secs: Option<u32>,
    /// Access-token lifetime (`expires_in`); 0 makes tokens expire at once.
    pub access_token_ttl_secs: u64,
    /// A token stops working after it has authorised this many API requests.
    pub access_token_max_uses: Option<u32>,
    /// Refresh-token rotation on refresh grants.
    pub rotation: Rotation,
    /// Lifetime of newly issued refresh tokens.
    pub refresh_token_ttl_secs: u64,
    /// Emit keys as bare JSON numbers instead of strings.
    pub numeric_keys: bool,
    /// Keys have 26 digits (more than u64 holds). Read when seeding; later keys keep that length.
    pub long_keys: bool,
    /// `pageSize` when the request has none.
    pub default_page_size: u32,
    /// Larger `pageSize` values are clamped to this.
    pub max_page_size: u32,
    /// Added to every response.
    pub response_delay_ms: u64,
    /// Reject dialect-B filters whose spaces were form-encoded as `+` (quirk 5).
    pub reject_plus_in_eq_filter: bool,
    /// Add the legacy identity fields (`account_key`, `organizer_key`, `email`, ...) to token responses.
    pub legacy_token_fields: bool,
    /// Add Users with `allOrNothing=false` returns the existing key for conflicting emails.
    pub conflict_returns_existing_key: bool,
    /// Users created through the API stay out of filtered lists for this long (quirk 19).
    pub filter_visibility_delay_ms: u64,
    /// Serve `GET /licenses/{l}` and `GET /groups/{g}`. No public source shows them (reference
    /// §11); `false` answers them 404 like an unknown path, as an API without them would.
    pub single_object_reads: bool,
    /// What the consent page does.
    pub consent: Consent,
    /// How long an authorization code can be exchanged after it was issued; 0 expires it at once.
    pub authorization_code_ttl_secs: u64,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            rate_limit_per_sec: Some(10),
            retry_after_secs: Some(1),
            access_token_ttl_secs: 3600,
            access_token_max_uses: None,
            // The 7-day threshold is arbitrary: GoTo only says a new token comes "when the old one expired".
            rotation: Rotation::WhenRemainingBelowSecs(7 * 86_400),
            refresh_token_ttl_secs: 30 * 86_400,
            numeric_keys: false,
            long_keys: false,
            default_page_size: 20,
            max_page_size: 1000,
            response_delay_ms: 0,
            reject_plus_in_eq_filter: false,
            legacy_token_fields: false,
            conflict_returns_existing_key: false,
            filter_visibility_delay_ms: 0,
            single_object_reads: true,
            consent: Consent::Grant,
            // RFC 6749 §4.1.2 recommends at most ten minutes; GoTo documents none.
            authorization_code_ttl_secs: 600,
        }
    }
}
