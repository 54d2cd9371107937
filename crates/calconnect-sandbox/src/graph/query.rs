//! OData query options as Graph reads them, shared by the resources that take them.

use std::collections::HashMap;

use crate::graph::error::GraphError;

/// Case-insensitive query parameter lookup (Graph accepts `$top` and `startdatetime` alike).
pub(crate) fn parameter<'a>(query: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// `$select`, each name resolved case-insensitively to its spelling in `known`, in the order asked and
/// without repeats; `None` when the query has no `$select`. A name `known` lacks gets `unknown(name)`,
/// the resource's own refusal.
pub(crate) fn selected_properties(
    query: &HashMap<String, String>,
    known: &[&'static str],
    unknown: impl Fn(&str) -> GraphError,
) -> Result<Option<Vec<&'static str>>, GraphError> {
    let Some(select) = parameter(query, "$select") else {
        return Ok(None);
    };
    let mut properties = Vec::new();
    for name in select
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let known = known
            .iter()
            .find(|known| known.eq_ignore_ascii_case(name))
            .ok_or_else(|| unknown(name))?;
        if !properties.contains(known) {
            properties.push(*known);
        }
    }
    Ok(Some(properties))
}
