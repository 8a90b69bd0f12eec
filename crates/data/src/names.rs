//! The one macro for closed sets of names, [`names!`](crate::names): every enum whose members
//! have a fixed text form (in files, on the wire, on the command line and in addresses) is
//! declared through it, in this crate, the core and the protocol alike, so each gets the same
//! `ALL`, `name`, `parse`, `Display`, `FromStr` and serde names, and the same error
//! ([`UnknownName`]) for a name it does not know.

/// A name that is not one of a closed set's: what kind of name, the text given, the names
/// accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{got}' (expected one of: {})", expected.join(", "))]
pub struct UnknownName {
    pub what: &'static str,
    pub got: String,
    pub expected: &'static [&'static str],
}

/// Declares an enum whose members serialise as fixed names:
///
/// ```ignore
/// breastmnist_data::names! {
///     /// Docs.
///     #[derive(Default)]
///     pub Color ("colour") {
///         #[default]
///         Red => "red" | "rot",   // the name, then aliases `parse` and serde also accept
///         Blue => "blue",
///     }
/// }
/// ```
///
/// It derives `Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize` (the using
/// crate depends on serde) and adds `ALL`, `name`, `parse` (trimmed, case-insensitive, `_` read
/// as `-`), `Display` (the name) and `FromStr` (with [`UnknownName`] naming the kind).
#[macro_export]
macro_rules! names {
    ($(#[$meta:meta])* $vis:vis $name:ident ($what:literal) {
        $($(#[$vmeta:meta])* $variant:ident => $text:literal $(| $alias:literal)*),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text $(, alias = $alias)*)] $variant),+
        }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];
            /// Every member's name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The member's text form.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The member named `s` (or one of its aliases): trimmed, case-insensitive, `_`
            /// read as `-`.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim().to_ascii_lowercase().replace('_', "-");
                $(if s == $text $(|| s == $alias)* { return Some($name::$variant); })+
                None
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s).ok_or_else(|| $crate::UnknownName { what: $what, got: s.to_string(), expected: $name::NAMES })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::names! {
        /// A test set.
        #[derive(Default)]
        Colour ("colour") {
            #[default]
            Red => "red" | "rot",
            DarkBlue => "dark-blue",
        }
    }

    #[test]
    fn names_parse_display_and_serialise_alike() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::DarkBlue]);
        assert_eq!(Colour::NAMES, ["red", "dark-blue"]);
        assert_eq!(Colour::default(), Colour::Red);
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.name()), Some(c));
            assert_eq!(c.to_string(), c.name());
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.name()));
        }
        assert_eq!(Colour::parse(" Dark_Blue "), Some(Colour::DarkBlue));
        assert_eq!(Colour::parse("ROT"), Some(Colour::Red));
        assert_eq!(serde_json::from_str::<Colour>("\"rot\"").unwrap(), Colour::Red);
        let e = "green".parse::<Colour>().unwrap_err();
        assert_eq!(e.to_string(), "unknown colour 'green' (expected one of: red, dark-blue)");
    }
}
