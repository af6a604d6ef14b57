//! Values with no fields of their own (scalars, enums, and lists and options of them), which a
//! catalogue reads off a row in place: no selection to walk, nothing to await.

use std::sync::OnceLock;

use async_graphql::{EnumType, ID, Name, OutputType, ScalarType, Value};

use crate::graphql::scalars::{Date, Time};

/// A value a field can answer without a selection of its own.
pub trait Leaf: OutputType + 'static {
    fn leaf(self) -> Value;
}

impl Leaf for String {
    fn leaf(self) -> Value {
        Value::String(self)
    }
}

impl Leaf for ID {
    fn leaf(self) -> Value {
        Value::String(self.0)
    }
}

impl Leaf for bool {
    fn leaf(self) -> Value {
        Value::Boolean(self)
    }
}

impl Leaf for i32 {
    fn leaf(self) -> Value {
        Value::Number(self.into())
    }
}

impl Leaf for i64 {
    fn leaf(self) -> Value {
        Value::Number(self.into())
    }
}

impl Leaf for f64 {
    fn leaf(self) -> Value {
        self.to_value()
    }
}

impl Leaf for Date {
    fn leaf(self) -> Value {
        self.to_value()
    }
}

impl Leaf for Time {
    fn leaf(self) -> Value {
        self.to_value()
    }
}

/// The library's own `DateTime` scalar (RFC 3339), which some value objects answer.
impl Leaf for chrono::DateTime<chrono::Utc> {
    fn leaf(self) -> Value {
        self.to_value()
    }
}

impl<T: Leaf + Sync> Leaf for Option<T> {
    fn leaf(self) -> Value {
        self.map_or(Value::Null, T::leaf)
    }
}

impl<T: Leaf + Sync> Leaf for Vec<T> {
    fn leaf(self) -> Value {
        Value::List(self.into_iter().map(T::leaf).collect())
    }
}

/// An enum's value by its name in the schema, the names made once per type (`names`).
pub fn enum_leaf<E: EnumType>(names: &'static OnceLock<Vec<Name>>, value: E) -> Value {
    let items = E::items();
    let names = names.get_or_init(|| items.iter().map(|item| Name::new(item.name)).collect());
    match items.iter().position(|item| item.value == value) {
        Some(i) => Value::Enum(names[i].clone()),
        None => Value::Null,
    }
}

/// Makes GraphQL enums leaves.
#[macro_export]
macro_rules! enum_leaf {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::graphql::catalogue::Leaf for $ty {
            fn leaf(self) -> async_graphql::Value {
                static NAMES: std::sync::OnceLock<Vec<async_graphql::Name>> = std::sync::OnceLock::new();
                $crate::graphql::catalogue::enum_leaf(&NAMES, self)
            }
        }
    )+};
}
