//! A JSON ledger: an array of flat objects keyed by column heading, each value a text, a
//! number, a boolean or null. It is read value by value under the budget, so that an array of
//! a million objects stops at the first row too many and an object of a million keys at the
//! first column too many, before either is held whole.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Budget, Sheet};
use crate::error::{AppError, AppResult};

/// One object's cells, in the order of its keys.
type Item = Vec<(String, String)>;

pub fn read(bytes: &[u8], budget: &mut Budget<'_>) -> AppResult<Vec<Sheet>> {
    let mut refused = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let read = Items {
        budget: &mut *budget,
        refused: &mut refused,
    }
    .deserialize(&mut de)
    .and_then(|items| de.end().map(|()| items));
    let items = match (read, refused) {
        (Ok(items), _) => items,
        (Err(_), Some(refused)) => return Err(refused),
        (Err(e), None) => {
            return Err(AppError::bad_input(
                "file",
                t!("file-not-json", detail = e.to_string()),
            ));
        }
    };
    let mut header: Vec<String> = Vec::new();
    for item in &items {
        for (key, _) in item {
            if !header.contains(key) {
                budget.columns(header.len() + 1)?;
                header.push(key.clone());
            }
        }
    }
    let mut rows = Vec::with_capacity(items.len() + 1);
    rows.push(header.clone());
    for item in items {
        let mut cells = vec![String::new(); header.len()];
        for (key, text) in item {
            if let Some(column) = header.iter().position(|h| *h == key) {
                cells[column] = text;
            }
        }
        rows.push(cells);
    }
    budget.sheet_read(rows.len());
    Ok(vec![Sheet {
        name: "JSON".to_owned(),
        rows,
    }])
}

/// Stops the reading with the budget's refusal, kept for the caller (serde's error carries
/// text only).
fn refuse<E: serde::de::Error>(slot: &mut Option<AppError>, refused: AppError) -> E {
    let error = E::custom(refused.message());
    *slot = Some(refused);
    error
}

/// The array of objects.
struct Items<'b, 'l> {
    budget: &'b mut Budget<'l>,
    refused: &'b mut Option<AppError>,
}

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = Vec<Item>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Item>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = Vec<Item>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Item>, A::Error> {
        let mut items = Vec::new();
        loop {
            // Row 1 is the heading, so the next item is row `items.len() + 2`.
            let row = items.len() + 1;
            if let Err(refused) = self.budget.row(row, row) {
                // Only an item that is really there is one too many.
                return match seq.next_element::<serde::de::IgnoredAny>()? {
                    None => Ok(items),
                    Some(_) => Err(refuse(self.refused, refused)),
                };
            }
            let seed = ItemSeed {
                budget: &mut *self.budget,
                refused: &mut *self.refused,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(items),
            }
        }
    }
}

/// One object, its keys and values checked as they come.
struct ItemSeed<'b, 'l> {
    budget: &'b mut Budget<'l>,
    refused: &'b mut Option<AppError>,
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, '_> {
    type Value = Item;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Item, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_, '_> {
    type Value = Item;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of column headings and values")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Item, M::Error> {
        let mut cells: Item = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if let Err(refused) = self.budget.columns(cells.len() + 1) {
                return Err(refuse(self.refused, refused));
            }
            let Cell(text) = map.next_value()?;
            if !text.is_empty()
                && let Err(refused) = self.budget.cell(cells.len(), &text)
            {
                return Err(refuse(self.refused, refused));
            }
            cells.push((key, text));
        }
        Ok(cells)
    }
}

/// A value as a cell's text: texts trimmed, numbers and booleans as written, null empty.
struct Cell(String);

impl<'de> serde::Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Cell, D::Error> {
        struct CellVisitor;
        impl Visitor<'_> for CellVisitor {
            type Value = Cell;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text, a number, a boolean or null")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Cell, E> {
                Ok(Cell(v.trim().to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Cell, E> {
                Ok(Cell(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Cell, E> {
                Ok(Cell(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Cell, E> {
                Ok(Cell(
                    serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string()),
                ))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Cell, E> {
                Ok(Cell(v.to_string()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Cell, E> {
                Ok(Cell(String::new()))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Cell, E> {
                Ok(Cell(String::new()))
            }
        }
        d.deserialize_any(CellVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> crate::config::ImportLimits {
        crate::config::ImportLimits {
            import_max_file_bytes: 1 << 20,
            import_max_inflated_bytes: 1 << 20,
            import_max_sheets: 4,
            import_max_rows: 3,
            import_max_columns: 2,
            import_max_cells: 100,
            import_max_cell_chars: 5,
        }
    }

    fn read_text(text: &str) -> AppResult<Vec<Sheet>> {
        let limits = limits();
        read(text.as_bytes(), &mut Budget::new(&limits))
    }

    #[test]
    fn flat_objects_read_as_rows_under_their_union_of_headings() {
        let sheets = read_text(r#"[{"问题": " 甲 ", "序号": 1}, {"序号": 2.5, "整改": null}]"#);
        assert!(
            sheets.is_err(),
            "three headings pass the two columns allowed"
        );
        let sheets = read_text(r#"[{"问题": " 甲 ", "序号": 1}, {"序号": true}]"#).unwrap();
        assert_eq!(
            sheets[0].rows,
            vec![
                vec!["问题".to_owned(), "序号".to_owned()],
                vec!["甲".to_owned(), "1".to_owned()],
                vec![String::new(), "true".to_owned()],
            ]
        );
    }

    #[test]
    fn the_budget_stops_rows_columns_and_texts_as_they_come() {
        let message = |text: &str| read_text(text).err().map(|e| e.message().to_owned());
        assert!(message(r#"[{}, {}, {}]"#).is_some_and(|m| m.contains('3')));
        assert!(message(r#"[{}, {}]"#).is_none());
        assert!(message(r#"[{"a": 1, "b": 2, "c": 3}]"#).is_some());
        assert!(message(r#"[{"a": "六个字的问题"}]"#).is_some());
        // Nested values are no cells.
        assert!(message(r#"[{"a": [1]}]"#).is_some());
        assert!(message(r#"[{"a": {"b": 1}}]"#).is_some());
    }
}
