//! The attribute tables of the User, the GoTo User extension and the Group: the one place each
//! attribute's characteristics and description are written.

use super::{AttrType, Attribute, EXTENSION_SCHEMA, GROUP_SCHEMA, Returned, Schema, USER_SCHEMA};

const fn id(description: &'static str) -> Attribute {
    Attribute::new("id", AttrType::String, description).read_only().returned(Returned::Always).unique().case_exact()
}

const EXTERNAL_ID: Attribute = Attribute::new(
    "externalId",
    AttrType::String,
    "The provisioning client's own identifier for this resource (an object id or an employee \
     number). GoTo has no field for it: the connector keeps it in its state.",
)
.case_exact();

/// Suggested locales: one per language GoTo offers.
const LOCALES: &[&str] =
    &["en_US", "en_GB", "de_DE", "es_ES", "fr_FR", "it_IT", "ja_JP", "ko_KR", "nl_NL", "pt_BR", "zh_CN"];

/// Suggested time zones: some widely used IANA names (GoTo accepts every one).
const TIME_ZONES: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
];

const META: Attribute = Attribute::complex(
    "meta",
    &[
        Attribute::new("resourceType", AttrType::String, "The resource's type: User or Group.")
            .read_only()
            .returned(Returned::Always)
            .case_exact(),
        Attribute::new("created", AttrType::DateTime, "When the connector first saw the resource.").read_only(),
        Attribute::new("lastModified", AttrType::DateTime, "When the connector last saw the resource change.")
            .read_only(),
        Attribute::new("location", AttrType::Reference, "The resource's URI in this service.")
            .read_only()
            .references(&["uri"])
            .case_exact(),
        Attribute::new(
            "version",
            AttrType::String,
            "A weak entity tag of the resource as served: it changes when the resource does.",
        )
        .read_only()
        .case_exact(),
    ],
    "Resource metadata, set by the service.",
)
.read_only();

/// RFC 7643 gives licenses and roles a `primary` flag, and Entra sends it; GoTo has no such
/// thing, so it is read-only: ignored in what clients send.
const IGNORED_PRIMARY: Attribute = Attribute::new(
    "primary",
    AttrType::Boolean,
    "Not used by GoTo: no license or role is primary. A value sent is ignored.",
)
.read_only();

pub(super) static USER: Schema = Schema {
    id: USER_SCHEMA,
    name: "User",
    description: "A GoTo user of the account.",
    attributes: &[
        id("The GoTo user key, assigned by GoTo when the user is created."),
        EXTERNAL_ID,
        Attribute::new(
            "userName",
            AttrType::String,
            "The user's GoTo login: their email address, unique in the GoTo account. Changing it \
             changes the user's GoTo email.",
        )
        .required()
        .unique(),
        Attribute::complex(
            "name",
            &[
                Attribute::new("givenName", AttrType::String, "The first name (GoTo's firstName)."),
                Attribute::new("familyName", AttrType::String, "The last name (GoTo's lastName)."),
                Attribute::new("formatted", AttrType::String, "The given and family names together.").read_only(),
            ],
            "The user's name. GoTo keeps a first and a last name.",
        ),
        Attribute::new(
            "displayName",
            AttrType::String,
            "The name GoTo shows for the user, from the given and family names. Set name to change it.",
        )
        .read_only(),
        Attribute::complex(
            "emails",
            &[
                Attribute::new("value", AttrType::String, "The email address."),
                Attribute::new("type", AttrType::String, "The kind of address: work, home or other.")
                    .canonical(&["work", "home", "other"]),
                Attribute::new("primary", AttrType::Boolean, "Whether this is the primary address; at most one is."),
            ],
            "The user's email addresses. GoTo has one, the login, listed as the primary work email; it \
             always equals userName.",
        )
        .multi(),
        Attribute::new(
            "locale",
            AttrType::String,
            "The user's locale in GoTo: a language GoTo offers (de, en, es, fr, it, ja, ko, nl, pt, zh), \
             an underscore and a country, such as en_US. The canonical values are suggestions.",
        )
        .canonical(LOCALES),
        Attribute::new(
            "timezone",
            AttrType::String,
            "The user's time zone in GoTo: any IANA name, such as America/New_York. The canonical values \
             are suggestions.",
        )
        .canonical(TIME_ZONES),
        Attribute::new(
            "active",
            AttrType::Boolean,
            "Whether the user has access to GoTo. Setting it to false deprovisions the user: the \
             licenses, admin roles and group are removed, and GoTo keeps the user and its history.",
        ),
        Attribute::complex(
            "entitlements",
            &[
                Attribute::new("value", AttrType::String, "The GoTo license key.").required().case_exact(),
                Attribute::new("display", AttrType::String, "The license's description in GoTo.").read_only(),
                Attribute::new("type", AttrType::String, "The license's type in GoTo.").read_only(),
                IGNORED_PRIMARY,
            ],
            "The GoTo licenses assigned to the user, each taking a seat. Add a value to grant a license, \
             remove it to revoke the license and free the seat.",
        )
        .multi(),
        Attribute::complex(
            "roles",
            &[
                Attribute::new("value", AttrType::String, "The admin role's name, such as MANAGE_USERS.").required(),
                Attribute::new("display", AttrType::String, "What the role allows.").read_only(),
                Attribute::new("type", AttrType::String, "The kind of role.").read_only(),
                IGNORED_PRIMARY,
            ],
            "The GoTo admin roles the user holds (SUPER_USER, MANAGE_USERS, MANAGE_SEATS, \
             MANAGE_SETTINGS, MANAGE_GROUPS, RUN_REPORTS, ...). Add a value to grant a role, remove \
             it to revoke the role.",
        )
        .multi(),
        Attribute::complex(
            "groups",
            &[
                Attribute::new("value", AttrType::String, "The group's id (its GoTo group key).")
                    .read_only()
                    .case_exact(),
                Attribute::new("display", AttrType::String, "The group's name.").read_only(),
                Attribute::new("$ref", AttrType::Reference, "The URI of the Group resource.")
                    .read_only()
                    .references(&["Group"])
                    .case_exact(),
            ],
            "The GoTo group the user is in: GoTo allows at most one. Read-only: change it through the \
             Group's members, or the extension's groupKey.",
        )
        .multi()
        .read_only(),
        META,
    ],
    extensions: &[&EXTENSION],
};

pub(super) static EXTENSION: Schema = Schema {
    id: EXTENSION_SCHEMA,
    name: "GoTo User",
    description: "What GoTo knows of a user beyond the core User schema.",
    attributes: &[
        Attribute::new(
            "status",
            AttrType::String,
            "The user's status in GoTo: ACTIVE; INVITED (invited, no password yet); SUSPENDED \
             (no license, or declined the invitation); INACTIVE.",
        )
        .read_only()
        .canonical(&["ACTIVE", "INVITED", "SUSPENDED", "INACTIVE"]),
        Attribute::new(
            "products",
            AttrType::String,
            "The GoTo products the user's licenses give, such as G2M (Meeting), G2W (Webinar) or \
             G2T (Training).",
        )
        .multi()
        .read_only(),
        Attribute::new(
            "groupKey",
            AttrType::String,
            "The key of the user's GoTo group. Setting it moves the user into that group (a GoTo \
             user is in at most one group); removing it takes the user out of their group.",
        )
        .case_exact(),
        Attribute::new("groupName", AttrType::String, "The name of the user's GoTo group.").read_only(),
    ],
    extensions: &[],
};

pub(super) static GROUP: Schema = Schema {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "A GoTo group of the account.",
    attributes: &[
        id("The GoTo group key, assigned by GoTo when the group is created."),
        EXTERNAL_ID,
        Attribute::new("displayName", AttrType::String, "The group's name, unique in the GoTo account.")
            .required()
            .unique(),
        Attribute::complex(
            "members",
            &[
                Attribute::new("value", AttrType::String, "The member's User id (its GoTo user key).")
                    .required()
                    .case_exact(),
                Attribute::new("display", AttrType::String, "The member's userName.").read_only(),
                Attribute::new(
                    "$ref",
                    AttrType::Reference,
                    "The URI of the member's User resource; the member is its value, so a $ref sent is not needed.",
                )
                .references(&["User"])
                .case_exact(),
                Attribute::new("type", AttrType::String, "The member's resource type: User (GoTo groups hold users).")
                    .canonical(&["User"]),
            ],
            "The users in the group. A GoTo user is in at most one group, so adding a member moves \
             that user out of the group they were in; removing a member leaves them in no group.",
        )
        .multi(),
        META,
    ],
    extensions: &[],
};
