//! CSV files of numbers with a header row, and the choice of the target column — or, for a
//! classifier, one column of class labels (text or numbers) beside the numbers.

use crate::error::{Error, Past, Result};
use crate::excerpt::Excerpt;
use crate::records::Records;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Column names for a message: the first [`LISTED`], each cut to an [`Excerpt`] if long, and
/// how many more there are.
///
/// ```
/// use tinytrain_host_sim::table::listed;
/// assert_eq!(listed(&["x".into(), "y".into()]), "x, y");
/// let many: Vec<String> = (0..100).map(|k| format!("c{k}")).collect();
/// assert_eq!(listed(&many), "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 90 more");
/// ```
pub fn listed(names: &[String]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(LISTED)
        .map(|name| {
            let excerpt = Excerpt::new(name.as_bytes());
            if excerpt.cut {
                excerpt.text + "…"
            } else {
                excerpt.text
            }
        })
        .collect();
    let more = names.len().saturating_sub(LISTED);
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

/// The most column names a message lists.
pub const LISTED: usize = 10;

/// A cell as a finite number (surrounding whitespace ignored).
fn number(cell: &[u8]) -> Option<f32> {
    let v: f32 = std::str::from_utf8(cell).ok()?.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// A CSV file of finite numbers: a header and rows of equally many cells — but for one column of
/// class labels, if it was read with [`Table::read_labelled`].
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Where it was read from (used in messages).
    pub path: PathBuf,
    /// The column names.
    pub header: Vec<String>,
    /// The cells, row after row (0 in the label column, whose cells are in `labels`).
    pub values: Vec<f32>,
    /// The column of class labels, if one was read as such.
    pub labels: Option<Labels>,
}

/// A column of class labels: each row's class, and the classes' names in their fixed order.
///
/// **The order of the classes**: when every label is a number, by increasing value (so `2`
/// comes before `10`; equal values by their text); otherwise by their text, byte by byte
/// (`"Setosa"` before `"setosa"`). The same labels give the same order whatever the order of the
/// rows, so a model's class `k` is the same class for every file with these labels; the model
/// file keeps the names in this order.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// The column's 0-based index in the header.
    pub column: usize,
    /// The classes' names (each label's text, trimmed), in the order above.
    pub names: Vec<String>,
    /// Each row's class: an index into `names`.
    pub rows: Vec<u16>,
    /// Every label is a number.
    pub numeric: bool,
}

impl Labels {
    /// Rows of each class, in the classes' order.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.names.len()];
        for &c in &self.rows {
            if let Some(n) = counts.get_mut(usize::from(c)) {
                *n += 1;
            }
        }
        counts
    }
}

/// The most classes `--max-classes` accepts: a classifier's confusion matrix of this many classes
/// holds a million counts.
pub const MAX_CLASSES: usize = 1000;

/// The class labels of a column as they are read: interned in the order they come, bounded by a
/// capacity.
struct Interner {
    column: usize,
    capacity: usize,
    index: HashMap<String, u16>,
    names: Vec<String>,
    rows: Vec<u16>,
    /// Every label so far is a number.
    numeric: bool,
    /// Once past the capacity with numeric labels only: the distinct values, counted to the
    /// end of the file for the message.
    overflow: Option<HashSet<u64>>,
}

impl Interner {
    fn new(column: usize, capacity: usize) -> Self {
        Self {
            column,
            capacity,
            index: HashMap::new(),
            names: Vec::new(),
            rows: Vec::new(),
            numeric: true,
            overflow: None,
        }
    }

    /// Takes one row's label, or says what is wrong with it.
    fn push(&mut self, cell: &[u8]) -> std::result::Result<(), LabelProblem> {
        let text = std::str::from_utf8(cell)
            .map_err(|_| LabelProblem::NotText)?
            .trim();
        if text.is_empty() {
            return Err(LabelProblem::Empty);
        }
        let value = text.parse::<f64>().ok().filter(|v| v.is_finite());
        self.numeric &= value.is_some();
        if let Some(seen) = &mut self.overflow {
            return match value {
                Some(v) => {
                    seen.insert(v.to_bits());
                    Ok(())
                }
                None => Err(LabelProblem::TooMany),
            };
        }
        if let Some(&class) = self.index.get(text) {
            self.rows.push(class);
            return Ok(());
        }
        if self.names.len() >= self.capacity {
            if !self.numeric {
                return Err(LabelProblem::TooMany);
            }
            // Counted on, for the message: how many distinct numbers the column holds.
            let mut seen: HashSet<u64> = self
                .names
                .iter()
                .filter_map(|n| n.parse::<f64>().ok())
                .map(f64::to_bits)
                .collect();
            seen.extend(value.map(f64::to_bits));
            self.overflow = Some(seen);
            return Ok(());
        }
        let class = self.names.len() as u16;
        self.index.insert(text.to_owned(), class);
        self.names.push(text.to_owned());
        self.rows.push(class);
        Ok(())
    }

    /// The labels with their classes in the fixed order (see [`Labels`]).
    fn finish(self) -> Labels {
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        if self.numeric {
            let value = |k: usize| self.names[k].parse::<f64>().unwrap_or(f64::NAN);
            order.sort_by(|&a, &b| {
                value(a)
                    .total_cmp(&value(b))
                    .then_with(|| self.names[a].cmp(&self.names[b]))
            });
        } else {
            order.sort_by(|&a, &b| self.names[a].cmp(&self.names[b]));
        }
        let mut rank = vec![0u16; order.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new as u16;
        }
        Labels {
            column: self.column,
            names: order.iter().map(|&k| self.names[k].clone()).collect(),
            rows: self.rows.iter().map(|&c| rank[usize::from(c)]).collect(),
            numeric: self.numeric,
        }
    }
}

/// What is wrong with a label cell.
enum LabelProblem {
    NotText,
    Empty,
    TooMany,
}

impl Table {
    /// Reads a CSV file (`-`: standard input), streaming it with the limits of [`crate::records`] (so that a file of
    /// any size or shape is read in bounded memory besides its numbers); every error names the
    /// file and, for a bad cell or row, its line and column.
    pub fn read(path: &Path) -> Result<Self> {
        Self::read_choosing(path, |_| Ok(None))
    }

    /// Reads a CSV file (`-`: standard input) in which `label` may choose, from the header, one
    /// column of class labels and its capacity, as [`Table::read_labelled`] reads it.
    pub fn read_choosing(
        path: &Path,
        label: impl FnOnce(&Table) -> Result<Option<(usize, usize)>>,
    ) -> Result<Self> {
        if crate::stdio::is_standard_stream(path) {
            let input = std::io::stdin().lock();
            return Self::read_records(Path::new("standard input"), input, label);
        }
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::read_records(
            path,
            std::io::BufReader::with_capacity(1 << 16, file),
            label,
        )
    }

    /// Parses CSV text; `path` only names it in messages.
    ///
    /// ```
    /// use tinytrain_host_sim::table::Table;
    /// let t = Table::parse("d.csv".as_ref(), b"x,y\n1,2\n3,4\n")?;
    /// assert_eq!((t.header.len(), t.rows()), (2, 2));
    /// assert_eq!(t.values, [1.0, 2.0, 3.0, 4.0]);
    ///
    /// let e = Table::parse("d.csv".as_ref(), b"x,y\n1,2\n3,four\n").unwrap_err();
    /// assert_eq!(e.to_string(), "d.csv:3:2: \"four\" in column `y` is not a finite number");
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        Self::from_reader(path, bytes)
    }

    /// Reads CSV from `input`; `path` names it in messages.
    pub fn from_reader(path: &Path, input: impl BufRead) -> Result<Self> {
        Self::read_records(path, input, |_| Ok(None))
    }

    /// Reads a CSV file (`-`: standard input) whose column `target` (a header name, or else a 1-based number; the
    /// last column without it) holds class labels — text or numbers — and every other column
    /// numbers; at most `capacity` classes (see [`Labels`] for their order).
    ///
    /// Errors, besides [`Table::read`]'s: an unknown column, an empty label
    /// ([`Error::EmptyLabel`], naming the line), more than `capacity` distinct labels
    /// ([`Error::TooManyClasses`], with how many a numeric column holds, and the hint that
    /// regression may be meant).
    ///
    /// ```
    /// use tinytrain_host_sim::table::Table;
    /// let t = Table::parse_labelled("d.csv".as_ref(), b"x,kind\n1,b\n2,a\n3,b\n", None, 10)?;
    /// let labels = t.labels.unwrap();
    /// assert_eq!((labels.names, labels.rows), (vec!["a".into(), "b".into()], vec![1, 0, 1]));
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn read_labelled(path: &Path, target: Option<&str>, capacity: usize) -> Result<Self> {
        Self::read_choosing(path, |table| Self::label_column(table, target, capacity))
    }

    /// [`Table::read_labelled`] on CSV text; `path` only names it in messages.
    pub fn parse_labelled(
        path: &Path,
        bytes: &[u8],
        target: Option<&str>,
        capacity: usize,
    ) -> Result<Self> {
        Self::read_records(path, bytes, |table| {
            Self::label_column(table, target, capacity)
        })
    }

    /// The label column of a table whose header has been read.
    fn label_column(
        table: &Table,
        target: Option<&str>,
        capacity: usize,
    ) -> Result<Option<(usize, usize)>> {
        let column = match target {
            Some(name) => table.column(name)?,
            None => table.header.len().saturating_sub(1),
        };
        Ok(Some((column, capacity)))
    }

    /// Reads CSV from `input`; `label` picks the label column and its capacity from the table
    /// of the header alone, if there is one.
    fn read_records(
        path: &Path,
        input: impl BufRead,
        label: impl FnOnce(&Table) -> Result<Option<(usize, usize)>>,
    ) -> Result<Self> {
        let mut records = Records::new(path, input);
        let mut header = Vec::new();
        let mut bad_name = None;
        let first = records.next(|column, cell| {
            match std::str::from_utf8(cell) {
                Ok(name) => header.push(name.trim().to_owned()),
                Err(_) => bad_name = bad_name.or(Some(column + 1)),
            }
            Ok(())
        })?;
        let path = path.to_owned();
        let Some(first) = first else {
            return Err(Error::EmptyFile { path });
        };
        if let Some(column) = bad_name {
            return Err(Error::Csv {
                path,
                line: first.line,
                message: format!("column {column} of the header is not UTF-8 text"),
            });
        }
        if header == [""] {
            return Err(Error::EmptyFile { path });
        }
        unique(&path, first.line, &header)?;
        let n = header.len();
        let mut interner = {
            let table = Table {
                path: path.clone(),
                header,
                values: Vec::new(),
                labels: None,
            };
            let chosen = label(&table)?;
            header = table.header;
            chosen.map(|(column, capacity)| Interner::new(column, capacity))
        };
        let label_column = interner.as_ref().map(|i| i.column);
        let mut values = Vec::new();
        loop {
            let mut bad = None;
            let mut bad_label = None;
            let row = records.next(|column, cell| {
                if Some(column) == label_column {
                    values.push(0.0);
                    if let Some(labels) = &mut interner {
                        if let Err(problem) = labels.push(cell) {
                            if bad_label.is_none() {
                                bad_label = Some((problem, Excerpt::new(cell)));
                            }
                        }
                    }
                } else if column < n {
                    match number(cell) {
                        Some(v) => values.push(v),
                        None if bad.is_none() => bad = Some((column, Excerpt::new(cell))),
                        None => {}
                    }
                }
                Ok(())
            });
            let row = match row {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(Error::LineTooLong { line, cells, .. }) if cells > n => {
                    return Err(Error::RaggedRow {
                        path,
                        line,
                        expected: n,
                        found: cells,
                        more: true,
                    })
                }
                Err(e) => return Err(e),
            };
            if row.cells != n {
                return Err(Error::RaggedRow {
                    path,
                    line: row.line,
                    expected: n,
                    found: row.cells,
                    more: false,
                });
            }
            if let Some((k, cell)) = bad {
                return Err(Error::NotANumber {
                    path,
                    line: row.line,
                    column: k + 1,
                    name: header.get(k).cloned().unwrap_or_default(),
                    cell,
                });
            }
            if let (Some((problem, cell)), Some(labels)) = (bad_label, &interner) {
                let column = labels.column;
                let name = header.get(column).cloned().unwrap_or_default();
                return Err(match problem {
                    LabelProblem::NotText => Error::Csv {
                        path,
                        line: row.line,
                        message: format!("the label in column `{name}` is not UTF-8 text"),
                    },
                    LabelProblem::Empty => Error::EmptyLabel {
                        path,
                        line: row.line,
                        name,
                    },
                    LabelProblem::TooMany => Error::TooManyClasses {
                        path,
                        name,
                        capacity: labels.capacity,
                        past: Past::At {
                            line: row.line,
                            label: cell,
                        },
                    },
                });
            }
        }
        if values.is_empty() {
            return Err(Error::NoRows { path });
        }
        let labels = match interner {
            Some(labels) => {
                if let Some(seen) = &labels.overflow {
                    return Err(Error::TooManyClasses {
                        path,
                        name: header.get(labels.column).cloned().unwrap_or_default(),
                        capacity: labels.capacity,
                        past: Past::Counted(seen.len()),
                    });
                }
                Some(labels.finish())
            }
            None => None,
        };
        Ok(Self {
            path,
            header,
            values,
            labels,
        })
    }

    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.values.len() / self.header.len().max(1)
    }

    /// The index of the column `target` names: a header name, or else a 1-based column number.
    ///
    /// ```
    /// use tinytrain_host_sim::table::Table;
    /// let t = Table::parse("d.csv".as_ref(), b"a,b,c\n1,2,3\n")?;
    /// assert_eq!(t.column("b")?, 1);
    /// assert_eq!(t.column("1")?, 0);
    /// assert!(t.column("d").is_err() && t.column("4").is_err());
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn column(&self, target: &str) -> Result<usize> {
        let by_name = self.header.iter().position(|h| h == target);
        let by_number = || {
            target
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=self.header.len()).contains(n))
                .map(|n| n - 1)
        };
        by_name
            .or_else(by_number)
            .ok_or_else(|| Error::UnknownColumn {
                path: self.path.clone(),
                target: target.to_owned(),
                columns: listed(&self.header),
            })
    }

    /// Splits the table into inputs (every other column, in order) and the target column
    /// (the last one unless `target` says otherwise).
    pub fn features_and_target(&self, target: Option<&str>) -> Result<Samples> {
        let n = self.header.len();
        if n < 2 {
            return Err(Error::Columns {
                path: self.path.clone(),
                problem: format!(
                    "only one column ({}); a feature column and a target column are needed",
                    listed(&self.header)
                ),
            });
        }
        let t = match target {
            Some(name) => self.column(name)?,
            None => n - 1,
        };
        let mut inputs = Vec::with_capacity(self.rows() * (n - 1));
        let mut targets = Vec::with_capacity(self.rows());
        for row in self.values.chunks_exact(n) {
            for (k, v) in row.iter().enumerate() {
                if k == t {
                    targets.push(*v);
                } else {
                    inputs.push(*v);
                }
            }
        }
        let mut input_names = self.header.clone();
        let target_name = input_names.remove(t);
        Ok(Samples {
            path: self.path.clone(),
            input_names,
            target_name: Some(target_name),
            inputs,
            targets,
        })
    }
}

impl Table {
    /// The columns a model with `n_in` inputs reads: all of them as inputs, or — when there is
    /// one more column — the inputs and the target (the last column unless `target` names
    /// another).
    ///
    /// ```
    /// use tinytrain_host_sim::table::Table;
    /// let t = Table::parse("d.csv".as_ref(), b"a,b,y\n1,2,3\n")?;
    /// assert!(t.for_model(3, None)?.targets.is_empty());
    /// assert_eq!(t.for_model(2, None)?.targets, [3.0]);
    /// assert_eq!(t.for_model(2, Some("a"))?.input_names, ["b", "y"]);
    /// assert!(t.for_model(1, None).is_err());
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn for_model(&self, n_in: usize, target: Option<&str>) -> Result<Samples> {
        let n = self.header.len();
        if n == n_in && target.is_none() {
            return Ok(Samples {
                path: self.path.clone(),
                input_names: self.header.clone(),
                target_name: None,
                inputs: self.values.clone(),
                targets: Vec::new(),
            });
        }
        if n == n_in + 1 {
            return self.features_and_target(target);
        }
        let s = if n_in == 1 { "" } else { "s" };
        Err(Error::Columns {
            path: self.path.clone(),
            problem: format!(
                "{n} columns ({}), but the model takes {n_in} input{s}: give {n_in} input \
                 columns, optionally followed by the target column",
                listed(&self.header)
            ),
        })
    }
}

/// Fails on a header that names two columns alike: a column must be found by its name, in
/// `train --target` and in `predict`, without a guess.
fn unique(path: &Path, line: u64, header: &[String]) -> Result<()> {
    for (second, name) in header.iter().enumerate() {
        if let Some(first) = header
            .get(..second)
            .and_then(|h| h.iter().position(|n| n == name))
        {
            return Err(Error::DuplicateColumn {
                path: path.to_owned(),
                line,
                name: name.clone(),
                first: first + 1,
                second: second + 1,
            });
        }
    }
    Ok(())
}

/// Samples as the core wants them: inputs and targets row by row, with their names.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// The file they came from.
    pub path: PathBuf,
    /// Names of the input columns.
    pub input_names: Vec<String>,
    /// Name of the target column, if the file has one.
    pub target_name: Option<String>,
    /// Inputs, `n_in()` per sample.
    pub inputs: Vec<f32>,
    /// Targets, one per sample (empty when there is no target column).
    pub targets: Vec<f32>,
}

impl Samples {
    /// Inputs per sample.
    pub fn n_in(&self) -> usize {
        self.input_names.len()
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.len() / self.n_in().max(1)
    }

    /// True when there is no sample (never, for samples from a [`Table`]).
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// The data set the core trains on.
    pub fn dataset(&self) -> Result<tinytrain_core::Dataset<'_>> {
        tinytrain_core::Dataset::new(&self.inputs, &self.targets, self.n_in(), 1)
            .map_err(Error::core(self.path.display().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table> {
        Table::parse(Path::new("t.csv"), text.as_bytes())
    }

    #[test]
    fn bad_files_name_the_place() {
        let msg = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            msg(""),
            "t.csv: the file is empty; expected a header row and data rows"
        );
        assert_eq!(msg("x,y\n"), "t.csv: no data rows after the header");
        assert_eq!(
            msg("x,y\n1,2\n3\n"),
            "t.csv:3: 1 cells, but the header has 2"
        );
        assert_eq!(
            msg("x,y\n1,2\n3,nan\n"),
            "t.csv:3:2: \"nan\" in column `y` is not a finite number"
        );
        assert_eq!(
            msg("x,y,x\n1,2,3\n"),
            "t.csv:1: column `x` is named twice in the header (columns 1 and 3): every column \
             needs a name of its own"
        );
    }

    #[test]
    fn target_column_is_moved_out() {
        let t = parse("a,b,c\n1,2,3\n4,5,6\n").unwrap();
        let s = t.features_and_target(Some("a")).unwrap();
        assert_eq!(s.input_names, ["b", "c"]);
        assert_eq!(
            (s.inputs, s.targets),
            (vec![2.0, 3.0, 5.0, 6.0], vec![1.0, 4.0])
        );
        let s = t.features_and_target(None).unwrap();
        assert_eq!(s.target_name.as_deref(), Some("c"));
        assert!(t.features_and_target(Some("z")).is_err());
    }

    fn labels(text: &str, capacity: usize) -> Result<Labels> {
        let t = Table::parse_labelled(Path::new("t.csv"), text.as_bytes(), None, capacity)?;
        Ok(t.labels.expect("a label column"))
    }

    #[test]
    fn classes_are_sorted_numerically_when_every_label_is_a_number() {
        let l = labels("x,y\n1,10\n2,2\n3,10\n4,-1\n", 10).unwrap();
        assert_eq!(l.names, ["-1", "2", "10"]);
        assert_eq!(l.rows, [2, 1, 2, 0]);
        assert!(l.numeric);
        assert_eq!(l.counts(), [1, 1, 2]);
    }

    #[test]
    fn classes_are_sorted_by_text_whatever_the_order_of_the_rows() {
        let a = labels("x,y\n1,b\n2,Setosa\n3, a \n4,10\n", 10).unwrap();
        let b = labels("x,y\n4,10\n3,a\n2,Setosa\n1,b\n", 10).unwrap();
        assert_eq!(a.names, ["10", "Setosa", "a", "b"], "trimmed, byte order");
        assert_eq!(a.names, b.names);
        assert!(!a.numeric);
    }

    #[test]
    fn labels_past_the_capacity_are_refused() {
        let e = labels("x,y\n1,a\n2,b\n3,c\n", 2).unwrap_err().to_string();
        assert_eq!(
            e,
            "t.csv: column `y` holds more than 2 distinct labels (the first past it, \"c\", on \
             line 4): more than --max-classes 2"
        );
        let e = labels("x,y\n1,1\n2,2\n3,3\n4,3\n5,4\n", 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("holds 4 distinct labels"), "{e}");
    }
}
