//! Bounded input: no CSV file, however large or malformed, makes `tinytrain` hold more than its
//! numbers in memory, and no message quotes more than the start of a cell.

use crate::data;
use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tinytrain_host_sim::records::{EXCERPT, MAX_FIELD, MAX_LINE};

/// Address space allowed to `tinytrain` where a test says so: far below what holding a 100 MB
/// line took (1.2 GB), far above what reading in bounded memory needs.
const MEMORY_LIMIT_KB: u32 = 256 * 1024;

/// Longer than any of these runs takes; only a run that hangs or reads forever reaches it.
const HANG: Duration = Duration::from_secs(300);

/// Runs `tinytrain args` under `limit_kb` of address space (`ulimit -v`), feeding `stdin` from
/// `feed` (which may stop early: the command need not read it all). Fails if the run takes
/// [`HANG`].
fn limited(
    limit_kb: u32,
    args: &[&str],
    feed: impl FnOnce(&mut dyn Write) + Send + 'static,
) -> Output {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {limit_kb} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A closed pipe (the command stopped reading) ends the feed.
    let feeder = std::thread::spawn(move || feed(&mut stdin));
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = Vec::new();
        stderr.read_to_end(&mut text).unwrap();
        text
    });
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > HANG {
            child.kill().unwrap();
            panic!("tinytrain {args:?} still runs after {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let _ = feeder.join();
    Output {
        status: child.wait().unwrap(),
        stdout,
        stderr: errors.join().unwrap(),
    }
}

/// The one line of stderr of a run that must fail with exit code 2.
fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

/// Writes `head`, then `bytes` `times` times, then a line end.
fn repeat(head: &'static str, bytes: &'static [u8], times: usize) -> impl FnOnce(&mut dyn Write) {
    move |w| {
        let block: Vec<u8> = bytes.repeat(((1 << 16) / bytes.len()).min(times));
        let mut left = times * bytes.len();
        let mut sent = w.write_all(head.as_bytes());
        while sent.is_ok() && left > 0 {
            let n = left.min(block.len());
            sent = w.write_all(&block[..n]);
            left -= n;
        }
        let _ = sent.and_then(|()| w.write_all(b"\n"));
    }
}

#[test]
fn dev_zero_ends_at_once_with_a_clear_error() {
    let out = limited(MEMORY_LIMIT_KB, &["train", "--data", "/dev/zero"], |_| {});
    let err = refused(&out);
    let zeros = "\\0".repeat(EXCERPT);
    assert_eq!(
        err,
        format!(
            "error: /dev/zero:1:1: a cell longer than {MAX_FIELD} bytes, the limit per cell: \"{zeros}\"…\n"
        )
    );
}

#[test]
fn a_100_mb_ragged_line_is_found_without_holding_it() {
    let feed = repeat("x,y\n1,2\n", b"1,", 50_000_000);
    let out = limited(MEMORY_LIMIT_KB, &["train", "--data", "/dev/stdin"], feed);
    assert_eq!(
        refused(&out),
        format!(
            "error: /dev/stdin:3: at least {} cells, but the header has 2\n",
            MAX_LINE / 2
        )
    );
}

#[test]
fn a_100_mb_cell_is_quoted_by_its_start() {
    let feed = repeat("x,y\n1,2\n3,", b"7", 100_000_000);
    let out = limited(MEMORY_LIMIT_KB, &["train", "--data", "/dev/stdin"], feed);
    assert_eq!(
        refused(&out),
        format!(
            "error: /dev/stdin:3:2: a cell longer than {MAX_FIELD} bytes, the limit per cell: \"{}\"…\n",
            "7".repeat(EXCERPT)
        )
    );
}

#[test]
fn a_long_cell_that_is_not_a_number_is_quoted_by_its_start() {
    let feed = repeat("x,y\n1,2\n3,", b"z", MAX_FIELD);
    let out = limited(MEMORY_LIMIT_KB, &["train", "--data", "/dev/stdin"], feed);
    assert_eq!(
        refused(&out),
        format!(
            "error: /dev/stdin:3:2: \"{}\"… in column `y` is not a finite number\n",
            "z".repeat(EXCERPT)
        )
    );
}

#[test]
fn a_long_header_is_refused_at_the_line_limit() {
    let feed = repeat("", b"abcdefg,", MAX_LINE);
    let out = limited(MEMORY_LIMIT_KB, &["train", "--data", "/dev/stdin"], feed);
    let err = refused(&out);
    assert!(
        err.starts_with(&format!(
            "error: /dev/stdin:1: a line longer than {MAX_LINE} bytes, the limit per line"
        )),
        "{err}"
    );
}

/// Rows of the committed sine with seven more columns of inputs: about 80 bytes a row.
fn wide_rows() -> Vec<u8> {
    let sine = std::fs::read_to_string(data::path("sine.csv")).unwrap();
    sine.lines()
        .skip(1)
        .enumerate()
        .map(|(k, row)| {
            let extra: Vec<String> = (1..8)
                .map(|c| format!("{:.6}", (k * c % 97) as f32 / 97.0))
                .collect();
            format!("{},{row}\n", extra.join(","))
        })
        .collect::<String>()
        .into_bytes()
}

#[test]
fn a_200_mb_csv_still_trains() {
    let rows = wide_rows();
    let row_bytes = rows.len();
    let copies = 200_000_000 / row_bytes + 1;
    let samples = copies * 300;
    // 2.5 million samples of 9 numbers take 90 MB, twice over (the table, then inputs and
    // targets): 1 GiB of address space is plenty.
    let out = limited(
        1 << 20,
        &[
            "train",
            "--data",
            "/dev/stdin",
            "--epochs",
            "1",
            "--layers",
            "8,1",
            "--batch",
            "256",
        ],
        move |w: &mut dyn Write| {
            w.write_all(b"a,b,c,d,e,f,g,x,y\n").unwrap();
            for _ in 0..copies {
                w.write_all(&rows).unwrap();
            }
        },
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sizes = stdout.lines().next().unwrap();
    let counts: Vec<usize> = sizes
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), samples, "{sizes}");
    assert!(copies * row_bytes >= 200_000_000);
}

#[test]
fn an_unknown_target_in_a_wide_file_lists_a_few_columns() {
    let header: Vec<String> = (0..5000).map(|k| format!("column_{k}")).collect();
    let row = vec!["1"; 5000].join(",");
    let text = format!("{}\n{row}\n", header.join(","));
    let out = limited(
        MEMORY_LIMIT_KB,
        &["train", "--data", "/dev/stdin", "--target", "z"],
        move |w| {
            let _ = w.write_all(text.as_bytes());
        },
    );
    assert_eq!(
        refused(&out),
        "error: /dev/stdin: no column \"z\" (--target); the columns are: column_0, column_1, \
         column_2, column_3, column_4, column_5, column_6, column_7, column_8, column_9 and \
         4990 more\n"
    );
}
