//! [`read_csv`]: measured [`Point`]s from a CSV with a header row, as a sweep writes it
//! (`value,n,throughput_per_s,p50_ns,p99_ns`). The column named `n` is the concurrency and the
//! one named `throughput_per_s` (or else `throughput`) what was measured at it; other columns
//! are ignored. Names are matched without regard to case or surrounding spaces and quotes.
//! Blank lines and lines starting with `#` are skipped. Cells are split at every comma: no cell
//! this reads may hold one.

use std::fmt;

use super::Point;

/// The concurrency column's name.
pub const N_COLUMN: &str = "n";
/// The throughput column's names, the preferred first.
pub const THROUGHPUT_COLUMNS: [&str; 2] = ["throughput_per_s", "throughput"];

/// Why a CSV's points cannot be read. Lines count from 1, comments and blank lines included.
#[derive(Clone, Debug, PartialEq)]
pub enum PointsError {
    /// Nothing but blank lines and comments: no header row.
    HeaderMissing,
    /// The header row names no such column.
    ColumnMissing {
        /// The header's line.
        line: usize,
        /// The column looked for (for throughput, every name it may have).
        column: String,
    },
    /// The header row names the column twice, so which one is meant is unknown.
    ColumnRepeated {
        /// The header's line.
        line: usize,
        /// The column's name.
        column: String,
    },
    /// A row ends before the column.
    CellMissing {
        /// The row's line.
        line: usize,
        /// The column's name.
        column: String,
    },
    /// A cell that is not a number.
    NotANumber {
        /// The row's line.
        line: usize,
        /// The column's name.
        column: String,
        /// What the cell holds.
        text: String,
    },
    /// A cell that reads as infinite or not a number (`inf`, `NaN`).
    NotFinite {
        /// The row's line.
        line: usize,
        /// The column's name.
        column: String,
        /// What the cell holds.
        text: String,
    },
}

impl fmt::Display for PointsError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointsError::HeaderMissing => write!(
                formatter,
                "no header row: the first line that is not blank or a comment must name the \
                 columns, `{N_COLUMN}` and `{}` among them",
                THROUGHPUT_COLUMNS[0]
            ),
            PointsError::ColumnMissing { line, column } => {
                write!(formatter, "line {line}: the header has no column {column}")
            }
            PointsError::ColumnRepeated { line, column } => write!(
                formatter,
                "line {line}: the header names the column `{column}` more than once"
            ),
            PointsError::CellMissing { line, column } => write!(
                formatter,
                "line {line}: the row ends before the column `{column}`"
            ),
            PointsError::NotANumber { line, column, text } => write!(
                formatter,
                "line {line}, column `{column}`: `{text}` is not a number"
            ),
            PointsError::NotFinite { line, column, text } => write!(
                formatter,
                "line {line}, column `{column}`: `{text}` is not a finite number"
            ),
        }
    }
}

impl std::error::Error for PointsError {}

/// The points of `text`, a CSV with a header row, in the order of its rows. Only the cells'
/// syntax is checked here; what makes a point fit to fit (N at least 1, throughput above 0, …)
/// is [`fit`](super::fit::fit)'s to say.
pub fn read_csv(text: &str) -> Result<Vec<Point>, PointsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#')
        });
    let (header_line, header) = lines.next().ok_or(PointsError::HeaderMissing)?;
    let names: Vec<String> = header
        .split(',')
        .map(|name| cell(name).to_lowercase())
        .collect();
    let n_index = column(&names, header_line, &[N_COLUMN])?;
    let throughput_index = column(&names, header_line, &THROUGHPUT_COLUMNS)?;
    let n_name = names[n_index].as_str();
    let throughput_name = names[throughput_index].as_str();
    let mut points = Vec::new();
    for (line, row) in lines {
        let cells: Vec<&str> = row.split(',').collect();
        points.push(Point {
            n: number(&cells, n_index, line, n_name)?,
            throughput_per_s: number(&cells, throughput_index, line, throughput_name)?,
        });
    }
    Ok(points)
}

/// A cell's text without the spaces and double quotes around it.
fn cell(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .map_or(text, str::trim)
}

/// The index of the first of `wanted` that `names` holds (exactly once).
fn column(names: &[String], line: usize, wanted: &[&str]) -> Result<usize, PointsError> {
    for name in wanted {
        let mut found = names.iter().enumerate().filter(|(_, given)| given == name);
        if let Some((index, _)) = found.next() {
            if found.next().is_some() {
                return Err(PointsError::ColumnRepeated {
                    line,
                    column: (*name).to_string(),
                });
            }
            return Ok(index);
        }
    }
    let listed: Vec<String> = wanted.iter().map(|name| format!("`{name}`")).collect();
    Err(PointsError::ColumnMissing {
        line,
        column: listed.join(" or "),
    })
}

/// The finite number in `cells[index]`, the column `name` of the row at `line`.
fn number(cells: &[&str], index: usize, line: usize, name: &str) -> Result<f64, PointsError> {
    let column = name.to_string();
    let text = cells
        .get(index)
        .map(|text| cell(text))
        .ok_or_else(|| PointsError::CellMissing {
            line,
            column: column.clone(),
        })?;
    let value: f64 = text.parse().map_err(|_| PointsError::NotANumber {
        line,
        column: column.clone(),
        text: text.to_string(),
    })?;
    if !value.is_finite() {
        return Err(PointsError::NotFinite {
            line,
            column,
            text: text.to_string(),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(pairs: &[(f64, f64)]) -> Vec<Point> {
        pairs
            .iter()
            .map(|&(n, throughput_per_s)| Point {
                n,
                throughput_per_s,
            })
            .collect()
    }

    #[test]
    fn the_columns_are_found_by_name_among_others() {
        let rows: [(&str, &str, Vec<Point>); 8] = [
            (
                "the two columns",
                "n,throughput_per_s\n1,100\n2,190.5\n",
                points(&[(1.0, 100.0), (2.0, 190.5)]),
            ),
            (
                "a sweep's columns, in its order",
                "value,n,throughput_per_s,p50_ns,p99_ns\n8,1,100,5000,9000\n16,2,190,5100,9900\n",
                points(&[(1.0, 100.0), (2.0, 190.0)]),
            ),
            (
                "`throughput` when there is no `throughput_per_s`",
                "throughput,n\n100,1\n",
                points(&[(1.0, 100.0)]),
            ),
            (
                "`throughput_per_s` before `throughput`",
                "n,throughput,throughput_per_s\n1,7,100\n",
                points(&[(1.0, 100.0)]),
            ),
            (
                "any case, spaces and quotes",
                "\u{feff} \"N\" , Throughput_Per_S \r\n 1 , \"1e2\" \r\n",
                points(&[(1.0, 100.0)]),
            ),
            (
                "comments and blank lines, before the header and between rows",
                "# a sweep of threads\n\nn,throughput_per_s\n1,100\n\n# a repeat\n   \n1,102\n",
                points(&[(1.0, 100.0), (1.0, 102.0)]),
            ),
            (
                "extra and missing cells in columns not read",
                "n,throughput_per_s,note\n1,100\n2,190,a,b,c\n",
                points(&[(1.0, 100.0), (2.0, 190.0)]),
            ),
            ("a header alone", "n,throughput_per_s\n", points(&[])),
        ];
        for (name, text, expected) in rows {
            assert_eq!(read_csv(text), Ok(expected), "{name}");
        }
    }

    #[test]
    fn every_refusal_names_its_line_and_column() {
        let missing = |line: usize, column: &str| PointsError::ColumnMissing {
            line,
            column: column.to_string(),
        };
        let rows: [(&str, &str, PointsError, &str); 9] = [
            ("empty", "", PointsError::HeaderMissing, "no header row"),
            (
                "comments only",
                "# nothing yet\n\n",
                PointsError::HeaderMissing,
                "no header row",
            ),
            (
                "no header: a row of numbers",
                "1,100\n2,190\n",
                missing(1, "`n`"),
                "line 1: the header has no column `n`",
            ),
            (
                "no throughput column",
                "# sweep\nn,p99_ns\n1,100\n",
                missing(2, "`throughput_per_s` or `throughput`"),
                "line 2: the header has no column `throughput_per_s` or `throughput`",
            ),
            (
                "n twice",
                "n,throughput_per_s,N\n",
                PointsError::ColumnRepeated {
                    line: 1,
                    column: "n".to_string(),
                },
                "line 1: the header names the column `n` more than once",
            ),
            (
                "a short row",
                "n,p50_ns,throughput_per_s\n1,5,100\n2,5\n",
                PointsError::CellMissing {
                    line: 3,
                    column: "throughput_per_s".to_string(),
                },
                "line 3: the row ends before the column `throughput_per_s`",
            ),
            (
                "a word",
                "n,throughput\n1,100\n\n2,fast\n",
                PointsError::NotANumber {
                    line: 4,
                    column: "throughput".to_string(),
                    text: "fast".to_string(),
                },
                "line 4, column `throughput`: `fast` is not a number",
            ),
            (
                "an empty cell",
                "n,throughput_per_s\n,100\n",
                PointsError::NotANumber {
                    line: 2,
                    column: "n".to_string(),
                    text: String::new(),
                },
                "line 2, column `n`: `` is not a number",
            ),
            (
                "infinity",
                "n,throughput_per_s\n1,inf\n",
                PointsError::NotFinite {
                    line: 2,
                    column: "throughput_per_s".to_string(),
                    text: "inf".to_string(),
                },
                "line 2, column `throughput_per_s`: `inf` is not a finite number",
            ),
        ];
        for (name, text, expected, message) in rows {
            let error = read_csv(text).expect_err(name);
            assert_eq!(error, expected, "{name}");
            assert!(error.to_string().starts_with(message), "{name}: {error}");
        }
        let nan = read_csv("n,throughput_per_s\nNaN,100\n").unwrap_err();
        assert!(
            matches!(nan, PointsError::NotFinite { line: 2, .. }),
            "{nan}"
        );
    }
}
