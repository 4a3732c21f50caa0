//! List requests: offset paging, filtering, optional sorting and projection (reference §5.1–5.2).

use crate::config::Knobs;
use crate::error::{ApiError, invented};
use crate::extract::Params;
use crate::filter::Filter;
use crate::ranked::RankedMap;

/// A parsed list request for a resource whose filterable attributes are `attrs`.
pub(crate) struct ListQuery {
    pub offset: usize,
    size: usize,
    filter: Option<Filter>,
    sort: Option<Sort>,
    /// `attributes=` / `attributeNames=`: the fields to return (plus `key`).
    pub attributes: Option<Vec<String>>,
}

/// `ascending=<attr>` / `descending=<attr>`: D3 documents them vaguely (its example is
/// `ascending=firstName=true`), so unknown attributes keep the default order.
struct Sort {
    attr: Option<usize>,
    descending: bool,
}

/// Items in their default order, from which a page is cut without walking the items before it.
pub(crate) trait Ordered<'a, T: 'a> {
    /// How many items there are.
    fn total(self) -> usize;
    /// Every item, in order.
    fn all(self) -> impl Iterator<Item = &'a T>;
    /// Up to `size` items from `offset` on.
    fn window(self, offset: usize, size: usize) -> impl Iterator<Item = &'a T>;
}

impl<'a, T> Ordered<'a, T> for &'a [T] {
    fn total(self) -> usize {
        self.len()
    }

    fn all(self) -> impl Iterator<Item = &'a T> {
        self.iter()
    }

    fn window(self, offset: usize, size: usize) -> impl Iterator<Item = &'a T> {
        self.get(offset..).unwrap_or_default().iter().take(size)
    }
}

impl<'a, K: Ord, T> Ordered<'a, T> for &'a RankedMap<K, T> {
    fn total(self) -> usize {
        self.len()
    }

    fn all(self) -> impl Iterator<Item = &'a T> {
        self.values()
    }

    fn window(self, offset: usize, size: usize) -> impl Iterator<Item = &'a T> {
        RankedMap::window(self, offset, size)
    }
}

impl ListQuery {
    pub fn parse(params: &Params, attrs: &[&str], knobs: &Knobs) -> Result<Self, ApiError> {
        let offset = params.number("offset")?.unwrap_or(0);
        let size =
            params.number("pageSize")?.unwrap_or(knobs.default_page_size as usize).min(knobs.max_page_size as usize);
        let filter = match params.get("filter").map(str::trim).filter(|f| !f.is_empty()) {
            None => None,
            Some(text) => {
                let invalid = || ApiError::bad_request(invented::FILTER_INVALID, text);
                let filter = Filter::parse(text, attrs).map_err(|_| invalid())?;
                // Quirk 5: GoTo is reported to refuse `eq` filters whose spaces arrive as '+'.
                let plus = params.raw("filter").is_some_and(|raw| raw.contains('+'));
                if knobs.reject_plus_in_eq_filter && plus && filter.uses_eq() {
                    return Err(invalid());
                }
                Some(filter)
            }
        };
        let sort = [("ascending", false), ("descending", true)].into_iter().find_map(|(name, descending)| {
            let value = params.get(name)?;
            let wanted = value.split('=').next().unwrap_or_default();
            let attr = attrs.iter().position(|a| a.eq_ignore_ascii_case(wanted));
            Some(Sort { attr, descending })
        });
        let attributes = params
            .get("attributes")
            .or_else(|| params.get("attributeNames"))
            .map(|list| list.split(',').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect());
        Ok(ListQuery { offset, size, filter, sort, attributes })
    }

    /// Applies filter, sort and paging to `items` (given in default order). `value(item, i)` is the
    /// item's value of attribute `attrs[i]`; `hidden` items are left out of filtered lists only.
    /// Returns the page and the filtered total.
    pub fn run<'a, T: 'a>(
        &self,
        items: impl Ordered<'a, T> + Copy,
        value: impl Fn(&'a T, usize) -> &'a str,
        hidden: impl Fn(&T) -> bool,
    ) -> (Vec<&'a T>, usize) {
        if self.filter.is_none() && self.sort.is_none() {
            return (items.window(self.offset, self.size).collect(), items.total());
        }
        let matching = items.all().filter(|item| match &self.filter {
            None => true,
            Some(f) => !hidden(item) && f.matches(&|i| value(item, i)),
        });
        let Some(sort) = &self.sort else {
            // Default order: count every match, keeping only the page.
            let mut total = 0;
            let mut page = Vec::new();
            for item in matching {
                if total >= self.offset && page.len() < self.size {
                    page.push(item);
                }
                total += 1;
            }
            return (page, total);
        };
        let mut all: Vec<&T> = matching.collect();
        if let Some(attr) = sort.attr {
            all.sort_by_cached_key(|item| value(item, attr).to_lowercase());
        }
        if sort.descending {
            all.reverse();
        }
        let total = all.len();
        let page = all.into_iter().skip(self.offset).take(self.size).collect();
        (page, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(query: &str, items: &[&'static str]) -> (Vec<&'static str>, usize) {
        let q = ListQuery::parse(&Params::parse(query), &["name"], &Knobs::default()).unwrap();
        let (page, total) = q.run(items, |s, _| s, |_| false);
        (page.into_iter().copied().collect(), total)
    }

    #[test]
    fn pages_sorts_and_filters() {
        let items = ["a", "b", "c", "d", "e"];
        assert_eq!(run("offset=1&pageSize=2", &items), (vec!["b", "c"], 5));
        assert_eq!(run("offset=9", &items), (vec![], 5));
        assert_eq!(run("descending=name&pageSize=2", &items), (vec!["e", "d"], 5));
        assert_eq!(run("filter=(name=%22[b-d]%22)&offset=1", &items), (vec!["c", "d"], 3));
        assert_eq!(run("pageSize=0", &items), (vec![], 5));
    }

    #[test]
    fn clamps_page_size_and_checks_the_plus_quirk() {
        let knobs = Knobs { max_page_size: 2, reject_plus_in_eq_filter: true, ..Knobs::default() };
        let q = ListQuery::parse(&Params::parse("pageSize=50"), &["name"], &knobs).unwrap();
        assert_eq!(q.size, 2);
        let plus = Params::parse("filter=name+eq+%22a%22");
        assert!(ListQuery::parse(&plus, &["name"], &knobs).is_err());
        assert!(ListQuery::parse(&plus, &["name"], &Knobs::default()).is_ok());
        let encoded = Params::parse("filter=name%20eq%20%22a%22");
        assert!(ListQuery::parse(&encoded, &["name"], &knobs).is_ok());
    }
}
