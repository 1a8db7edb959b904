use super::*;

#[test]
fn parse_i64_string2ll() {
    let ok: &[(&str, i64)] = &[
        ("0", 0),
        ("1", 1),
        ("-1", -1),
        ("9223372036854775807", i64::MAX),
        ("-9223372036854775808", i64::MIN),
        ("-1234567890123456789", -1_234_567_890_123_456_789),
        ("10", 10),
    ];
    for &(s, v) in ok {
        assert_eq!(parse_i64(s.as_bytes()), Some(v), "{s}");
    }
    let bad = [
        "",
        "-",
        "-0",
        "01",
        "00",
        "-01",
        "+1",
        " 1",
        "1 ",
        "1a",
        "9223372036854775808",
        "-9223372036854775809",
        "12345678901234567890",
        "000000000000000000001",
        "1.0",
        "0x10",
        "\u{0}",
    ];
    for s in bad {
        assert_eq!(parse_i64(s.as_bytes()), None, "{s:?}");
    }
}

#[test]
fn parse_u64_forms() {
    assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
    assert_eq!(parse_u64(b"18446744073709551616"), None);
    assert_eq!(parse_u64(b"0"), Some(0));
    assert_eq!(parse_u64(b"01"), None);
    assert_eq!(parse_u64(b"-1"), None);
    assert_eq!(parse_u64(b"+1"), None);
    // string2ull, as XADD's ID parts are read (checked against redis-server).
    let cases: &[(&[u8], Option<u64>)] = &[
        (b" 5", Some(5)),
        (b"+6", Some(6)),
        (b"007", Some(7)),
        (b"18446744073709551615", Some(u64::MAX)),
        (b"18446744073709551616", None),
        (b"-5", None),
        (b"-0", Some(0)),
        (b" -5", Some(u64::MAX - 4)),
        (b"\t11", Some(11)),
        (b"1 ", None),
        (b"0x1", None),
        (b"1e3", None),
        (b"", None),
        (b" ", None),
        (b"12\x00junk", Some(12)),
    ];
    for &(s, want) in cases {
        assert_eq!(
            parse_u64_strtoull(s),
            want,
            "{:?}",
            String::from_utf8_lossy(s)
        );
    }
}

#[test]
fn format_integers() {
    let mut buf = [0u8; 20];
    for v in [
        0i64,
        1,
        -1,
        9,
        10,
        99,
        100,
        -100,
        12345,
        i64::MAX,
        i64::MIN,
        1_000_000_007,
    ] {
        assert_eq!(format_i64(v, &mut buf), v.to_string().as_bytes());
        assert_eq!(i64_len(v), v.to_string().len());
    }
    assert_eq!(format_u64(u64::MAX, &mut buf), b"18446744073709551615");
    let mut out = b"x".to_vec();
    write_i64(-42, &mut out);
    assert_eq!(out, b"x-42");
}

/// (input, ZSCORE reply after ZADD on redis-server 7.0.15, or None for "ERR value
/// is not a valid float").
const ZADD_CASES: &[(&str, Option<&str>)] = &[
    ("0x10", Some("16")),
    ("0x1p3", Some("8")),
    ("inf", Some("inf")),
    ("-inf", Some("-inf")),
    ("+inf", Some("inf")),
    ("infinity", Some("inf")),
    ("INF", Some("inf")),
    ("nan", None),
    ("1e400", None),
    ("1e-400", None),
    ("4e-320", Some("3.999955468730732e-320")),
    ("0", Some("0")),
    (".5", Some("0.5")),
    ("5.", Some("5")),
    ("1e", None),
    (" 1", None),
    ("1 ", None),
    ("+1", Some("1")),
    ("1\u{0}", None),
    ("0x", None),
    ("0x1.8", Some("1.5")),
    ("1e308", Some("1e+308")),
    ("0.1", Some("0.10000000000000001")),
    ("1.1", Some("1.1000000000000001")),
    ("100", Some("100")),
    ("1e15", Some("1000000000000000")),
    ("1e16", Some("10000000000000000")),
    ("1e17", Some("1e+17")),
    ("123456789012345678", Some("1.2345678901234568e+17")),
    ("0.0001", Some("0.0001")),
    ("0.00001", Some("1.0000000000000001e-05")),
    ("1e-5", Some("1.0000000000000001e-05")),
    ("1e21", Some("1e+21")),
    ("-1.5e-300", Some("-1.5000000000000001e-300")),
    ("2.5", Some("2.5")),
    ("9007199254740993", Some("9007199254740992")),
    ("4.9406564584124654e-324", Some("4.9406564584124654e-324")),
    ("2.2250738585072014e-308", Some("2.2250738585072014e-308")),
    ("0e-400", Some("0")),
    ("00012", Some("12")),
    ("1_0", None),
    ("0x1P-3", Some("0.125")),
    ("0X1p3", Some("8")),
    ("1.7976931348623157e308", Some("1.7976931348623157e+308")),
    ("1.7976931348623159e308", None),
    ("3e-324", Some("4.9406564584124654e-324")),
    ("2e-324", None),
    ("0.30000000000000004", Some("0.30000000000000004")),
    ("-2.5", Some("-2.5")),
    ("1234567890123456789", Some("1.2345678901234568e+18")),
    ("123456.789", Some("123456.789")),
    ("0.1e1", Some("1")),
    ("infinite", None),
    ("", None),
    ("abc", None),
];

#[test]
fn zadd_zscore_matches_redis() {
    for &(input, want) in ZADD_CASES {
        let got = parse_f64(input.as_bytes()).map(format_double_17g);
        assert_eq!(got.as_deref(), want, "input {input:?}");
    }
    // Skiplist-encoded zsets keep -0 and print it as "-0" (listpack ones read 0).
    assert_eq!(
        parse_f64(b"-0").map(format_double_17g).as_deref(),
        Some("-0")
    );
    // No length limit for doubles (INCRBYFLOAT's limit does not apply).
    let long = format!("1.{}", "0".repeat(6000));
    assert_eq!(parse_f64(long.as_bytes()), Some(1.0));
}

#[test]
fn lenient_range_bounds_match_redis() {
    // ZCOUNT z <bound> +inf on redis-server 7.0.15 (after stripping "(").
    let cases: &[(&[u8], Option<f64>)] = &[
        (b" 1", Some(1.0)),
        (b"\t1", Some(1.0)),
        (b"1e400", Some(f64::INFINITY)),
        (b"-1e400", Some(f64::NEG_INFINITY)),
        (b"1e-400", Some(0.0)),
        (b"nan", None),
        (b"0x1", Some(1.0)),
        (b"1 ", None),
        (b"", Some(0.0)),
        (b"\x00", Some(0.0)),
        (b"1\x00x", Some(1.0)),
        (b"   ", None),
        (b" ", None),
        (b"+", None),
        (b"-", None),
        (b".", None),
        (b"(1", None),
        (b"1e400x", None),
        (b"infinity", Some(f64::INFINITY)),
        (b"1e", None),
    ];
    for &(s, want) in cases {
        assert_eq!(
            parse_f64_lenient(s),
            want,
            "{:?}",
            s.escape_ascii().to_string()
        );
    }
}

#[test]
fn double_17g_specials() {
    assert_eq!(format_double_17g(f64::INFINITY), "inf");
    assert_eq!(format_double_17g(f64::NEG_INFINITY), "-inf");
    assert_eq!(format_double_17g(f64::NAN), "nan");
    assert_eq!(format_double_17g(-0.0), "-0");
    assert_eq!(format_double_17g(0.0), "0");
    assert_eq!(format_double_17g(99999999999999984.0), "99999999999999984");
    assert_eq!(format_double_17g(1e16 + 2.0), "10000000000000002");
    assert_eq!(format_double_17g(123456789012.0), "123456789012");
    assert_eq!(format_double_17g(-5.0), "-5");
    assert_eq!(format_double_17g(f64::MAX), "1.7976931348623157e+308");
    assert_eq!(
        format_double_17g(f64::MIN_POSITIVE),
        "2.2250738585072014e-308"
    );
    assert_eq!(format_double_fixed(0.0, 4), "0.0000");
    assert_eq!(format_double_fixed(1.23456, 4), "1.2346");
    assert_eq!(
        format_double_human(13.361389338970184),
        "13.36138933897018433"
    );
}

/// (stored value, INCRBYFLOAT increment, reply) from redis-server 7.0.15;
/// HINCRBYFLOAT replied identically in every case. `None`: "ERR value is not a
/// valid float"; `Some("NAN_OR_INF")`: "ERR increment would produce NaN or
/// Infinity".
const INCRBYFLOAT_CASES: &[(&str, &str, Option<&str>)] = &[
    ("10.5", "0.1", Some("10.6")),
    ("10.5", "5.0e3", Some("5010.5")),
    // Not "5010.6": the stored "10.6" is re-parsed with its 64-bit rounding error.
    ("10.6", "5.0e3", Some("5010.60000000000000009")),
    ("0", "1e300", Some("1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144")),
    ("0", "1.5e-10", Some("0.00000000015")),
    ("0.1", "0.2", Some("0.3")),
    ("-0", "0", Some("0")),
    ("0", "-0", Some("0")),
    ("-0", "-0", Some("0")),
    ("0", "3.0e3", Some("3000")),
    ("0", "12345678901234567", Some("12345678901234567")),
    ("0", "9007199254740993", Some("9007199254740993")),
    ("0", "18446744073709551616", Some("18446744073709551616")),
    ("0", "1e20", Some("100000000000000000000")),
    ("0", "0x10", Some("16")),
    ("0", "1e-5000", None),
    ("0", "inf", Some("NAN_OR_INF")),
    ("0", "-inf", Some("NAN_OR_INF")),
    ("0", "infinity", Some("NAN_OR_INF")),
    ("0", "INF", Some("NAN_OR_INF")),
    ("0", "-Infinity", Some("NAN_OR_INF")),
    ("0", "nan", None),
    ("0", "1e-20", Some("0")),
    ("0", "-1e-20", Some("0")),
    ("0", " 1", None),
    ("0", "1 ", None),
    ("0", "+1", Some("1")),
    ("0", ".5", Some("0.5")),
    ("0", "5.", Some("5")),
    ("0", "1e", None),
    ("0", "0x1p3", Some("8")),
    ("0", "1.7976931348623157e308", Some("179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384")),
    ("0", "1e309", Some("999999999999999999986349424581256454766307763249906048699722933664407363742116431635427166600418245409398702382304152749971957328402423172341126484032370375772746974788657214625693651444984012739133113268869496442311034817571120406763557498021655642425941543468850939783228659030453659621446207643423114002432")),
    ("0", "4e-320", Some("0")),
    ("0", "1e-4950", Some("0")),
    ("0", "3.3e-4932", Some("0")),
    ("1.1", "2.2", Some("3.3")),
    ("3.14159", "0", Some("3.14159")),
    ("0", "0.1", Some("0.1")),
    ("1e17", "1", Some("100000000000000001")),
    ("0", "-5.5", Some("-5.5")),
    ("0", "5e-18", Some("0")),
    ("0", "-5e-18", Some("0")),
    ("0", "0.000000000000000005", Some("0")),
    ("0", "1.000000000000000005", Some("1")),
    ("0", "0.123456789012345678", Some("0.12345678901234568")),
    ("0", "99999999999999999.5", Some("99999999999999999.5")),
    ("0", "1.23456789e-5", Some("0.0000123456789")),
    ("0", "abc", None),
    ("0", "", None),
    ("0", "1\u{0}", None),
    ("0", "1e+2", Some("100")),
    ("0", "-.5e-1", Some("-0.05")),
    ("0", "00012", Some("12")),
    ("0", "0x", None),
    ("0", "0x1.8", Some("1.5")),
    ("0", "infinit", None),
    ("1.5", "0.1", Some("1.6")),
];

fn incrbyfloat(cur: &str, incr: &str) -> Option<String> {
    let a = LongDouble::parse(cur.as_bytes())?;
    let b = LongDouble::parse(incr.as_bytes())?;
    let sum = a.add(b);
    if !sum.is_finite() {
        return Some("NAN_OR_INF".to_string());
    }
    Some(sum.format_human())
}

#[test]
fn incrbyfloat_matches_redis() {
    for &(cur, incr, want) in INCRBYFLOAT_CASES {
        assert_eq!(
            incrbyfloat(cur, incr).as_deref(),
            want,
            "{cur:?} + {incr:?}"
        );
    }
}

#[test]
fn incrbyfloat_length_limit() {
    // Redis refuses 5120 characters or more (checked against redis-server).
    for (n, ok) in [(5118, true), (5119, true), (5120, false), (5121, false)] {
        let s = format!("1.{}", "0".repeat(n - 2));
        assert_eq!(LongDouble::parse(s.as_bytes()).is_some(), ok, "len {n}");
    }
}

#[test]
fn long_double_basics() {
    let x = LongDouble::parse(b"0.1").unwrap();
    assert_eq!(x.to_x87_bits(), 0x3ffb_cccc_cccc_cccc_cccd);
    assert_eq!(x.format_17g(), "0.1");
    assert_eq!(LongDouble::from_x87_bits(x.to_x87_bits()), x);
    assert_eq!(
        LongDouble::from_i64(i64::MIN).format_human(),
        "-9223372036854775808"
    );
    assert_eq!(LongDouble::from_i64(7).format_human(), "7");
    assert_eq!(
        LongDouble::from_f64(0.1).format_human(),
        "0.10000000000000001"
    );
    assert_eq!(LongDouble::from_f64(0.1).to_f64(), 0.1);
    assert_eq!(x.to_f64(), 0.1);
    assert!(LongDouble::INFINITY.add(LongDouble::NEG_INFINITY).is_nan());
    assert_eq!(LongDouble::INFINITY.format_human(), "inf");
    assert_eq!(LongDouble::NEG_INFINITY.format_human(), "-inf");
    let max = LongDouble::parse(b"0x1.fffffffffffffffep16383").unwrap();
    assert!(max.is_finite());
    assert!(max.add(max).is_infinite());
    assert_eq!(max.format_human().len(), 4933);
    assert_eq!(LongDouble::parse(b"0x1p16384"), None);
    let tiny = LongDouble::parse(b"0x1p-16445").unwrap();
    assert_eq!(tiny.to_x87_bits(), 1);
    assert_eq!(tiny.format_17g(), "3.6451995318824746e-4951");
    assert_eq!(LongDouble::parse(b"0x1p-16446"), None);
    assert_eq!(tiny.sub(tiny).format_human(), "0");
    assert!(!tiny.sub(tiny).is_sign_negative());
}

/// What the reference program `testdata/float_ref.c` prints for one case.
fn reference_line(op: &str, a: &str, b: &str) -> Option<String> {
    Some(match op {
        "ld" => match LongDouble::parse(a.as_bytes()) {
            None => "err".to_string(),
            Some(v) => format!(
                "{:020x} {} {}",
                v.to_x87_bits(),
                v.format_human(),
                v.format_17g()
            ),
        },
        "add" => match (
            LongDouble::parse(a.as_bytes()),
            LongDouble::parse(b.as_bytes()),
        ) {
            (Some(x), Some(y)) => {
                let z = x.add(y);
                if z.is_nan() {
                    // The FPU's default NaN is negative.
                    format!("{:020x} -nan", z.neg().to_x87_bits())
                } else {
                    format!("{:020x} {}", z.to_x87_bits(), z.format_human())
                }
            }
            _ => "err".to_string(),
        },
        "d" => {
            let d = f64::from_bits(u64::from_str_radix(a, 16).ok()?);
            format!(
                "{} {} {}",
                format_double_17g(d),
                format_double_fixed(d, 4),
                format_double_human(d)
            )
        }
        "sd" => match parse_f64(a.as_bytes()) {
            None => "err".to_string(),
            Some(d) => format!("{:016x}", d.to_bits()),
        },
        _ => return None,
    })
}

fn check_reference<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> usize {
    let mut bad = 0;
    let mut n = 0;
    for (case, want) in pairs {
        let mut parts = case.split(' ');
        let op = parts.next().unwrap_or("");
        let a = parts.next().unwrap_or("");
        let b = parts.next().unwrap_or("");
        let Some(got) = reference_line(op, a, b) else {
            continue;
        };
        n += 1;
        if got != want {
            bad += 1;
            if bad < 30 {
                eprintln!("MISMATCH {case}\n  want {want}\n  got  {got}");
            }
        }
    }
    assert_eq!(bad, 0, "{bad} of {n} cases differ from glibc");
    n
}

/// strtold/strtod parsing, x87 addition, %.17Lf-human, %.17Lg, %.17g and %.4f,
/// compared with glibc 2.36 (x86-64) on 2000 random and adversarial cases.
#[test]
fn matches_glibc_vectors() {
    let data = include_str!("../../testdata/float_glibc.txt");
    let n = check_reference(
        data.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(" | ")),
    );
    assert_eq!(n, 2000);
}

/// The same check on a larger generated set: set SHOAL_DS_REF to a directory
/// holding `cases.txt` and `expected.txt` (see testdata/README.md).
#[test]
#[ignore]
fn glibc_reference_file() {
    let Ok(dir) = std::env::var("SHOAL_DS_REF") else {
        return;
    };
    let cases = std::fs::read_to_string(format!("{dir}/cases.txt")).unwrap();
    let expected = std::fs::read_to_string(format!("{dir}/expected.txt")).unwrap();
    let n = check_reference(cases.lines().zip(expected.lines()));
    eprintln!("{n} cases match");
}

/// Addition checked against rustc_apfloat's x87 model on random operands,
/// biased towards close exponents (cancellation) and subnormals.
#[test]
fn long_double_add_matches_apfloat() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use rustc_apfloat::ieee::X87DoubleExtended as X;
    use rustc_apfloat::Float;

    let mut rng = StdRng::seed_from_u64(42);
    let random_bits = |rng: &mut StdRng| -> u128 {
        let sign = u128::from(rng.gen_bool(0.5)) << 79;
        let exp: u128 = match rng.gen_range(0..4) {
            0 => 0,
            1 => rng.gen_range(1..40),
            2 => rng.gen_range(16383 - 80..16383 + 80),
            _ => rng.gen_range(1..0x7fff),
        };
        let mut mant: u64 = rng.gen();
        if exp != 0 {
            mant |= 1 << 63;
        } else {
            mant &= !(1 << 63);
        }
        if rng.gen_bool(0.2) {
            // Few significant bits: exact sums and ties are more likely.
            mant &= !((1u64 << rng.gen_range(0..63)) - 1);
            if exp != 0 {
                mant |= 1 << 63;
            }
        }
        sign | (exp << 64) | u128::from(mant)
    };
    for i in 0..200_000 {
        let a = random_bits(&mut rng);
        let mut b = random_bits(&mut rng);
        if i % 3 == 0 {
            // Same exponent region as a.
            b = (b & !(0x7fffu128 << 64)) | (a & (0x7fffu128 << 64));
            if (a >> 64) & 0x7fff != 0 {
                b |= 1 << 63;
            } else {
                b &= !(1u128 << 63);
            }
        }
        let mine = LongDouble::from_x87_bits(a).add(LongDouble::from_x87_bits(b));
        let theirs = (X::from_bits(a) + X::from_bits(b)).value;
        if theirs.is_nan() {
            assert!(mine.is_nan());
            continue;
        }
        assert_eq!(mine.to_x87_bits(), theirs.to_bits(), "{a:020x} + {b:020x}");
    }
}

/// `cargo test -p shoal-ds --release -- --ignored --nocapture num_bench`
#[test]
#[ignore]
fn num_bench() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::time::Instant;
    let mut rng = StdRng::seed_from_u64(3);
    let n = 200_000;
    let kinds: [(&str, Vec<f64>); 4] = [
        (
            "integers",
            (0..n).map(|_| rng.gen_range(0..1_000_000) as f64).collect(),
        ),
        (
            "short decimals",
            (0..n)
                .map(|_| rng.gen_range(0..100_000) as f64 / 100.0)
                .collect(),
        ),
        (
            "random bits",
            (0..n)
                .map(|_| f64::from_bits(rng.gen::<u64>() >> 2))
                .collect(),
        ),
        ("uniform 0..1", (0..n).map(|_| rng.gen::<f64>()).collect()),
    ];
    for (name, vals) in &kinds {
        let mut out = Vec::with_capacity(64);
        let t = Instant::now();
        let mut total = 0;
        for &v in vals {
            out.clear();
            write_double_17g(v, &mut out);
            total += out.len();
        }
        let fmt = t.elapsed() / n;
        let texts: Vec<String> = vals.iter().map(|&v| format_double_17g(v)).collect();
        let t = Instant::now();
        let mut sum = 0.0;
        for s in &texts {
            sum += parse_f64(s.as_bytes()).unwrap_or(0.0);
        }
        let parse = t.elapsed() / n;
        let t = Instant::now();
        let mut total2 = 0;
        for &v in vals {
            total2 += format!("{v:e}").len();
        }
        let rust = t.elapsed() / n;
        println!("{name:>15}: %.17g {fmt:?}  parse {parse:?}  (rust {{:e}} {rust:?}) [{total} {total2} {sum}]");
    }
    let t = Instant::now();
    let mut acc = LongDouble::ZERO;
    let inc = LongDouble::parse(b"0.1").unwrap_or_default();
    let mut len = 0;
    for _ in 0..n {
        let cur = LongDouble::parse(acc.format_human().as_bytes()).unwrap_or_default();
        acc = cur.add(inc);
        len += acc.format_human().len();
    }
    println!(
        "INCRBYFLOAT cycle (parse+add+format): {:?} [{len}]",
        t.elapsed() / n
    );
}

#[test]
fn random_inputs_never_panic() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let alphabet = b"0123456789.eE+-xXpPinfINFaty \x00";
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..50_000 {
        let len = rng.gen_range(0..24);
        let s: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect();
        let _ = parse_i64(&s);
        let _ = parse_u64(&s);
        let _ = parse_u64_strtoull(&s);
        if let Some(v) = parse_f64(&s) {
            assert!(!v.is_nan());
            assert_eq!(parse_f64(format_double_17g(v).as_bytes()), Some(v));
        }
        if let Some(v) = LongDouble::parse(&s) {
            let _ = v.format_human();
            let _ = v.format_17g();
            let _ = v.add(v).format_human();
        }
    }
}

#[test]
fn doubles_round_trip_through_17g() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(12);
    for _ in 0..20_000 {
        let v = f64::from_bits(rng.gen());
        if v.is_nan() {
            continue;
        }
        let s = format_double_17g(v);
        let back = parse_f64(s.as_bytes()).unwrap();
        assert_eq!(back.to_bits(), v.to_bits(), "{s}");
        assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits());
    }
}

#[test]
fn huge_inputs_are_linear() {
    let start = std::time::Instant::now();
    let mut hex = b"0x1".to_vec();
    hex.resize(hex.len() + 2_000_000, b'f');
    hex.extend_from_slice(b"p-8000000");
    assert_eq!(
        parse_f64(&hex),
        Some(f64::from_bits(0x3ff0_0000_0000_0000) * 2.0)
    );
    let mut dec = b"0.".to_vec();
    dec.resize(dec.len() + 2_000_000, b'0');
    dec.push(b'5');
    assert_eq!(parse_f64(&dec), None);
    dec.extend_from_slice(b"e2000000");
    assert_eq!(parse_f64(&dec), Some(0.5));
    assert!(parse_f64(b"1e99999999999999999999999999999").is_none());
    assert_eq!(parse_f64(b"0e99999999999999999999999999999"), Some(0.0));
    assert!(LongDouble::parse(b"1e-99999999999999999999999").is_none());
    assert!(LongDouble::parse(b"0x1p99999999999999999999999").is_none());
    assert!(start.elapsed().as_secs() < 20);
}
