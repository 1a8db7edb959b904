//! Geohash arithmetic as Redis does it: 52-bit scores interleaving 26 bits of
//! latitude (even bits) and longitude (odd bits) over the Web Mercator ranges,
//! haversine distances on a sphere of radius [`EARTH_RADIUS_M`], and the nine
//! boxes (a center box and its neighbours) that cover a search area.
//!
//! Every step mirrors the reference's arithmetic in the same order (including
//! truncating conversions), so that scores, decoded coordinates, distances and the
//! set of boxes searched are bit-for-bit Redis's.

pub const STEP_MAX: u8 = 26;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// A geohash of `step` bits per coordinate (`step == 0 && bits == 0`: none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bits {
    pub bits: u64,
    pub step: u8,
}

impl Bits {
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

/// Spreads the 32 bits of `v` to the even bit positions.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of `x` into 32 bits.
fn squash(mut x: u64) -> u64 {
    x &= 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
}

fn interleave(lat: u32, long: u32) -> u64 {
    spread(lat) | (spread(long) << 1)
}

/// Latitude part in the low 32 bits, longitude part in the high 32.
fn deinterleave(v: u64) -> u64 {
    squash(v) | (squash(v >> 1) << 32)
}

/// C's conversion of a non-negative double to `uint32_t` (truncation; the
/// callers only pass values below 2^32).
fn c_to_u32(v: f64) -> u32 {
    if (0.0..4294967296.0).contains(&v) {
        v as u32
    } else {
        0
    }
}

/// `geohashEncode`: None when the point is outside the ranges or the limits.
pub fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<Bits> {
    if step > 32
        || step == 0
        || lat_range.max - lat_range.min == 0.0
        || long_range.max - long_range.min == 0.0
    {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    let scale = (1u64 << step) as f64;
    lat_offset *= scale;
    long_offset *= scale;
    Some(Bits {
        bits: interleave(c_to_u32(lat_offset), c_to_u32(long_offset)),
        step,
    })
}

/// Encodes a WGS84 point with the full precision (what GEOADD stores).
pub fn encode_wgs84(longitude: f64, latitude: f64) -> Option<Bits> {
    encode(LONG_RANGE, LAT_RANGE, longitude, latitude, STEP_MAX)
}

/// The 52-bit score of a hash.
pub fn align52(h: Bits) -> u64 {
    h.bits << (52 - u32::from(h.step) * 2)
}

/// `geohashDecode`: the cell of `h`.
pub fn decode(long_range: Range, lat_range: Range, h: Bits) -> Option<Area> {
    if h.is_zero() || lat_range.max - lat_range.min == 0.0 || long_range.max - long_range.min == 0.0
    {
        return None;
    }
    let sep = deinterleave(h.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << h.step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) * 1.0 / div) * lat_scale,
            max: lat_range.min + ((f64::from(ilato) + 1.0) * 1.0 / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) * 1.0 / div) * long_scale,
            max: long_range.min + ((f64::from(ilono) + 1.0) * 1.0 / div) * long_scale,
        },
    })
}

/// The center of a cell, clamped to the limits: `[longitude, latitude]`.
fn area_center(a: &Area) -> [f64; 2] {
    let x = ((a.longitude.min + a.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let y = ((a.latitude.min + a.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [x, y]
}

/// C's `(uint64_t)d` on x86-64 (what Redis does to a score before decoding it;
/// out-of-range values give the hardware's "indefinite" results).
pub fn c_to_u64(d: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    let cvt = |x: f64| -> u64 {
        if x.is_nan() || !(-TWO63..TWO63).contains(&x) {
            0x8000_0000_0000_0000
        } else {
            (x as i64) as u64
        }
    };
    if d < TWO63 {
        cvt(d)
    } else {
        cvt(d - TWO63) ^ 0x8000_0000_0000_0000
    }
}

/// Decodes a zset score into `[longitude, latitude]`.
pub fn decode_score(score: f64) -> [f64; 2] {
    let h = Bits {
        bits: c_to_u64(score),
        step: STEP_MAX,
    };
    decode(LONG_RANGE, LAT_RANGE, h).map_or([0.0, 0.0], |a| area_center(&a))
}

/// The 11-character standard geohash of a score (GEOHASH): decode, then encode
/// again over the standard latitude range -90..90.
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [x, y] = decode_score(score);
    let r_long = Range {
        min: -180.0,
        max: 180.0,
    };
    let r_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(r_long, r_lat, x, y, 26).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, slot) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *slot = ALPHABET[idx as usize];
    }
    out
}

/// Distance along a meridian between two latitudes, in meters.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Haversine great-circle distance in meters.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same longitude: the cheaper meridian distance (as Redis does).
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// The search area: around `xy` (longitude, latitude), a circle of `radius` or a
/// `width` x `height` box, in units of `conversion` meters.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub kind: ShapeKind,
}

#[derive(Clone, Copy, Debug)]
pub enum ShapeKind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

impl Shape {
    /// The distance of a point from the center if it lies within the shape.
    pub fn contains(&self, x: f64, y: f64) -> Option<f64> {
        let [cx, cy] = self.xy;
        match self.kind {
            ShapeKind::Radius(r) => {
                let d = distance(cx, cy, x, y);
                (d <= r * self.conversion).then_some(d)
            }
            ShapeKind::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                if lat_distance(y, cy) > h / 2.0 {
                    return None;
                }
                if distance(x, y, cx, y) > w / 2.0 {
                    return None;
                }
                Some(distance(cx, cy, x, y))
            }
        }
    }

    /// `[min_lon, min_lat, max_lon, max_lat]` of the shape.
    fn bounding_box(&self) -> [f64; 4] {
        let [longitude, latitude] = self.xy;
        let (h, w) = match self.kind {
            ShapeKind::Radius(r) => (r, r),
            ShapeKind::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * h;
        let width = self.conversion * w;
        let lat_delta = rad_deg(height / EARTH_RADIUS_M);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_M / deg_rad(latitude + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_M / deg_rad(latitude - lat_delta).cos());
        let south = latitude < 0.0;
        [
            if south {
                longitude - long_delta_bottom
            } else {
                longitude - long_delta_top
            },
            latitude - lat_delta,
            if south {
                longitude + long_delta_bottom
            } else {
                longitude + long_delta_top
            },
            latitude + lat_delta,
        ]
    }
}

/// `geohashEstimateStepsByRadius`.
fn estimate_steps(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    // Bounded: doubling reaches the limit within ~1100 rounds for any positive
    // double (and NaN/inf never enter the loop).
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
        if step > 2000 {
            break;
        }
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

fn move_x(h: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = h.bits & 0x5555_5555_5555_5555;
    let shift = 64 - u32::from(h.step) * 2;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    h.bits = x | y;
}

fn move_y(h: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let shift = 64 - u32::from(h.step) * 2;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    h.bits = x | y;
}

fn neighbour(h: Bits, dx: i8, dy: i8) -> Bits {
    let mut n = h;
    move_x(&mut n, dx);
    move_y(&mut n, dy);
    n
}

/// The boxes to search for `shape`, in Redis's order: center, north, south, east,
/// west, north-east, north-west, south-east, south-west (zero hashes are skipped).
pub fn search_boxes(shape: &Shape) -> [Bits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounding_box();
    let [longitude, latitude] = shape.xy;
    let radius_m = match shape.kind {
        ShapeKind::Radius(r) => r,
        ShapeKind::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * shape.conversion;
    let mut steps = estimate_steps(radius_m, latitude);
    let cells = |steps: u8| {
        let hash = encode(LONG_RANGE, LAT_RANGE, longitude, latitude, steps).unwrap_or_default();
        let n = [
            neighbour(hash, 0, 1),
            neighbour(hash, 0, -1),
            neighbour(hash, 1, 0),
            neighbour(hash, -1, 0),
            neighbour(hash, 1, 1),
            neighbour(hash, -1, 1),
            neighbour(hash, 1, -1),
            neighbour(hash, -1, -1),
        ];
        let area = decode(LONG_RANGE, LAT_RANGE, hash).unwrap_or_default();
        (hash, n, area)
    };
    let (mut hash, mut n, mut area) = cells(steps);
    let dec = |b: Bits| decode(LONG_RANGE, LAT_RANGE, b).unwrap_or_default();
    let (north, south, east, west) = (dec(n[0]), dec(n[1]), dec(n[2]), dec(n[3]));
    let decrease = north.latitude.max < max_lat
        || south.latitude.min > min_lat
        || east.longitude.max < max_lon
        || west.longitude.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        (hash, n, area) = cells(steps);
    }
    // n: 0 north, 1 south, 2 east, 3 west, 4 north-east, 5 north-west,
    // 6 south-east, 7 south-west.
    if steps >= 2 {
        let zero = Bits::default();
        if area.latitude.min < min_lat {
            n[1] = zero;
            n[7] = zero;
            n[6] = zero;
        }
        if area.latitude.max > max_lat {
            n[0] = zero;
            n[4] = zero;
            n[5] = zero;
        }
        if area.longitude.min < min_lon {
            n[3] = zero;
            n[7] = zero;
            n[5] = zero;
        }
        if area.longitude.max > max_lon {
            n[2] = zero;
            n[6] = zero;
            n[4] = zero;
        }
    }
    [hash, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]
}

/// The score interval `[min, max)` of the members inside box `h`.
pub fn box_scores(h: Bits) -> (f64, f64) {
    let min = align52(h);
    let max = align52(Bits {
        bits: h.bits.wrapping_add(1),
        step: h.step,
    });
    (min as f64, max as f64)
}

/// Whether `h` is a box to search (not zeroed).
pub fn is_search_box(h: &Bits) -> bool {
    !h.is_zero()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palermo_matches_redis() {
        // GEOADD Sicily 13.361389 38.115556 Palermo: score 3479099956230698.
        let h = encode_wgs84(13.361389, 38.115556).expect("in range");
        assert_eq!(align52(h), 3479099956230698);
        let [x, y] = decode_score(3479099956230698.0);
        assert_eq!(
            shoal_ds::num::format_double_human(x),
            "13.36138933897018433"
        );
        assert_eq!(
            shoal_ds::num::format_double_human(y),
            "38.11555639549629859"
        );
        assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
        let [x2, y2] = decode_score(3479447370796909.0);
        let d = distance(x, y, x2, y2);
        assert_eq!(
            shoal_ds::num::format_double_fixed(d / 1000.0, 4),
            "166.2742"
        );
    }

    #[test]
    fn scores_out_of_range_decode_as_redis() {
        assert_eq!(c_to_u64(-1.0), u64::MAX);
        assert_eq!(c_to_u64(f64::INFINITY), 0);
        assert_eq!(c_to_u64(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(c_to_u64(1e30), 0);
        let [x, y] = decode_score(-1.0);
        assert_eq!((x, y), (180.0, LAT_MAX));
    }
}
