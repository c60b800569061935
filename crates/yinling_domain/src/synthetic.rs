//! Deterministic synthetic people for `yinling demo` and benchmarks: names, ID numbers,
//! mobile numbers and birth dates that look like a Jining county's registry, so search,
//! dedupe, masking and age rules are exercised on realistic data without touching anyone's
//! real data.
//!
//! Everything is drawn from one seeded [`StdRng`]: the same seed and the same sequence of
//! calls give the same people, which keeps demo screenshots, benchmarks and bug reports
//! reproducible. ID numbers and phones are unique within one generator, checked against
//! compact sets of integers so a run of a million people stays fast.

use std::collections::HashSet;

use chrono::{Datelike, Months, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use thiserror::Error;

use crate::id_number::{Gender, IdNumber, is_valid_issuer};
use crate::phone::Phone;

/// Surnames with their share of the population in units of 0.01 %, after the 2020 census
/// top-100 list, skewed toward Shandong: 王 张 李 刘 more common than nationally, southern
/// surnames (陈 黄 林 罗 覃 …) rarer, and 孔 颜 (Qufu) and 孟 (Zoucheng) boosted for Jining.
const SURNAMES: [(&str, u32); 101] = [
    ("王", 950),
    ("张", 850),
    ("李", 850),
    ("刘", 700),
    ("陈", 250),
    ("杨", 250),
    ("黄", 80),
    ("赵", 250),
    ("吴", 120),
    ("周", 150),
    ("徐", 180),
    ("孙", 250),
    ("马", 150),
    ("朱", 130),
    ("胡", 100),
    ("郭", 120),
    ("何", 60),
    ("林", 60),
    ("高", 150),
    ("罗", 40),
    ("郑", 90),
    ("梁", 50),
    ("谢", 40),
    ("宋", 120),
    ("唐", 60),
    ("许", 80),
    ("韩", 80),
    ("冯", 70),
    ("邓", 30),
    ("曹", 90),
    ("彭", 30),
    ("曾", 15),
    ("肖", 40),
    ("田", 80),
    ("董", 70),
    ("袁", 40),
    ("潘", 40),
    ("于", 120),
    ("蒋", 40),
    ("蔡", 30),
    ("余", 20),
    ("杜", 50),
    ("叶", 20),
    ("程", 50),
    ("苏", 50),
    ("魏", 60),
    ("吕", 60),
    ("丁", 60),
    ("任", 50),
    ("沈", 20),
    ("姚", 40),
    ("卢", 40),
    ("姜", 80),
    ("崔", 50),
    ("钟", 15),
    ("谭", 10),
    ("陆", 20),
    ("汪", 15),
    ("范", 50),
    ("金", 30),
    ("石", 40),
    ("廖", 10),
    ("贾", 40),
    ("夏", 30),
    ("韦", 5),
    ("付", 40),
    ("方", 20),
    ("白", 30),
    ("邹", 20),
    ("孟", 60),
    ("熊", 10),
    ("秦", 30),
    ("邱", 15),
    ("江", 15),
    ("尹", 30),
    ("薛", 30),
    ("闫", 40),
    ("段", 30),
    ("雷", 15),
    ("侯", 40),
    ("龙", 10),
    ("史", 30),
    ("陶", 20),
    ("黎", 5),
    ("贺", 20),
    ("顾", 10),
    ("毛", 20),
    ("郝", 30),
    ("龚", 10),
    ("邵", 20),
    ("万", 15),
    ("钱", 15),
    ("严", 10),
    ("覃", 2),
    ("武", 40),
    ("戴", 20),
    ("莫", 5),
    ("孔", 100),
    ("向", 5),
    ("汤", 10),
    ("颜", 30),
];

/// Given names of one generation: the names parents of that time chose, and how often a
/// single-character name was chosen instead of two.
struct Generation {
    /// Born in or before this year.
    until_year: i32,
    /// Chance of a one-character given name, in percent.
    single_pct: u32,
    male: &'static [&'static str],
    male_single: &'static [&'static str],
    female: &'static [&'static str],
    female_single: &'static [&'static str],
}

/// From the founding-era names of today's 70–90-year-olds (建国, 秀英) through the
/// revolutionary names of the 1960s–70s (卫东, 红霞) and the single-character boom of the
/// 1980s–90s (伟, 娜) to the literary two-character names after 2000 (梓轩, 欣怡).
const GENERATIONS: [Generation; 4] = [
    Generation {
        until_year: 1959,
        single_pct: 8,
        male: &[
            "建国", "国庆", "德胜", "志刚", "建华", "建军", "国强", "国华", "振华", "永明", "福生",
            "德明", "长青", "春生", "学文", "玉林", "树林", "文华", "宝山", "金生", "庆云", "广田",
            "立新", "保国", "卫国", "援朝", "胜利", "兆祥", "希贤", "德福", "明远", "世昌", "忠义",
            "继先", "振东", "广庆", "连生", "传荣", "景山", "传德", "庆林", "宪法", "洪亮", "有才",
        ],
        male_single: &["军", "华", "强", "明", "林", "斌", "刚", "忠", "贵", "福"],
        female: &[
            "秀英", "桂兰", "淑珍", "玉兰", "凤英", "秀兰", "桂英", "秀珍", "玉梅", "淑英", "玉珍",
            "凤兰", "桂芝", "秀云", "玉英", "桂珍", "淑华", "素珍", "兰英", "秀荣", "玉芝", "凤芝",
            "翠兰", "金凤", "素英", "淑兰", "秀芳", "玉华", "桂香", "荣华", "爱华", "玉荣", "月英",
            "春兰", "美兰", "淑贞", "秀梅", "玉琴", "新华", "秀芝",
        ],
        female_single: &["英", "兰", "芳", "珍", "华", "梅", "凤"],
    },
    Generation {
        until_year: 1979,
        single_pct: 30,
        male: &[
            "卫东", "卫国", "红兵", "建设", "建军", "向东", "国庆", "志强", "永强", "建平", "海军",
            "卫华", "东升", "红旗", "学军", "建新", "立军", "国栋", "庆华", "志勇", "建伟", "振宇",
            "海涛", "志国", "延军", "跃进", "胜利", "爱民", "新民", "宏伟", "继东", "卫民",
        ],
        male_single: &[
            "军", "勇", "强", "伟", "斌", "涛", "峰", "刚", "明", "杰", "平", "辉", "鹏", "波",
        ],
        female: &[
            "红霞", "丽华", "红梅", "秀梅", "卫红", "丽萍", "小红", "艳华", "春梅", "海燕", "爱红",
            "玉红", "彩霞", "秀丽", "丽娟", "红英", "丽君", "美玲", "桂芳", "淑芬", "翠萍", "晓红",
            "雪梅", "小燕", "凤霞", "爱玲", "红艳", "亚萍", "建红", "秀红",
        ],
        female_single: &[
            "红", "霞", "燕", "萍", "梅", "丽", "艳", "芳", "玲", "英", "华", "娟", "敏", "静",
        ],
    },
    Generation {
        until_year: 1999,
        single_pct: 45,
        male: &[
            "志强", "建华", "海涛", "晓东", "文博", "俊杰", "鹏飞", "振宇", "子豪", "浩然", "明辉",
            "晓明", "永辉", "志伟", "家豪", "宇航", "天宇", "文杰", "晨阳", "建伟", "国栋", "少华",
            "亚东", "海洋", "雪松", "金龙", "瑞祥", "庆丰",
        ],
        male_single: &[
            "伟", "磊", "勇", "军", "涛", "杰", "强", "鹏", "浩", "超", "斌", "辉", "刚", "明",
            "亮", "洋", "帅", "凯", "鑫", "峰", "宇", "龙", "飞", "波",
        ],
        female: &[
            "晓燕", "丽娟", "海燕", "文静", "晓丽", "雪梅", "秀丽", "丽丽", "婷婷", "晶晶", "佳佳",
            "倩倩", "晓婷", "欣然", "梦瑶", "雨婷", "佳怡", "思雨", "玉洁", "慧敏", "晓雪", "欢欢",
            "媛媛", "丹丹", "春燕", "美琪",
        ],
        female_single: &[
            "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "婷", "雪", "琳", "洁", "倩",
            "颖", "晶", "玲", "璐", "莹",
        ],
    },
    Generation {
        until_year: i32::MAX,
        single_pct: 10,
        male: &[
            "子涵", "梓轩", "浩然", "宇轩", "一诺", "浩宇", "子轩", "俊熙", "宇航", "皓轩", "子墨",
            "梓豪", "奕辰", "铭泽", "沐宸", "天佑", "博文", "俊杰", "睿泽", "宇泽", "思远", "瑞霖",
            "子睿", "梓睿", "承泽", "浩轩", "致远", "明轩",
        ],
        male_single: &["浩", "宇", "轩", "博", "睿", "泽", "航", "晨", "鑫", "阳"],
        female: &[
            "欣怡", "子涵", "梓涵", "诗涵", "一诺", "雨桐", "可馨", "语汐", "若汐", "梓萱", "思彤",
            "欣妍", "梓琪", "紫涵", "佳怡", "雨欣", "可欣", "语桐", "依诺", "梦琪", "诗琪", "思涵",
            "雨涵", "芷若", "安琪", "嘉怡", "欣悦", "沐晴",
        ],
        female_single: &["欣", "婷", "悦", "涵", "琪", "萱", "妍", "彤", "璐", "瑶"],
    },
];

/// Mobile prefixes with relative weights. China Mobile dominates in Shandong, and older
/// residents mostly hold 13x numbers from the 2000s, so those weigh most.
const MOBILE_PREFIXES: [(u64, u32); 43] = [
    (134, 4),
    (135, 5),
    (136, 4),
    (137, 4),
    (138, 6),
    (139, 6),
    (130, 3),
    (131, 3),
    (132, 3),
    (133, 3),
    (150, 3),
    (151, 3),
    (152, 3),
    (153, 2),
    (155, 2),
    (156, 2),
    (157, 2),
    (158, 3),
    (159, 3),
    (180, 2),
    (181, 2),
    (182, 3),
    (183, 3),
    (184, 1),
    (185, 2),
    (186, 2),
    (187, 3),
    (188, 3),
    (189, 2),
    (147, 1),
    (166, 1),
    (172, 1),
    (173, 1),
    (175, 1),
    (176, 1),
    (177, 2),
    (178, 2),
    (190, 1),
    (191, 1),
    (193, 1),
    (195, 1),
    (198, 1),
    (199, 2),
];

/// Why the generator could not produce an ID number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SyntheticError {
    #[error("“{code}”不是可以签发身份证的区县代码")]
    InvalidRegion { code: String },
    #[error("出生日期{date}超出身份证号码可以表示的范围（1900年以后）")]
    InvalidBirthDate { date: NaiveDate },
    /// All 500 sequence numbers of one sex for one county and birth date are taken.
    #[error("{region}地区{date}出生的顺序码已用完")]
    SerialsExhausted { region: String, date: NaiveDate },
}

impl SyntheticError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            SyntheticError::InvalidRegion { .. } => "invalid_region",
            SyntheticError::InvalidBirthDate { .. } => "invalid_birth_date",
            SyntheticError::SerialsExhausted { .. } => "serials_exhausted",
        }
    }
}

/// Cumulative weights for drawing from a weighted table with one random number and a binary
/// search.
struct Weighted {
    cumulative: Vec<u32>,
}

impl Weighted {
    fn new(weights: impl Iterator<Item = u32>) -> Weighted {
        let mut total = 0u32;
        let cumulative = weights
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Weighted { cumulative }
    }

    fn pick(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0);
        if total == 0 {
            return 0;
        }
        let r = rng.gen_range(0..total);
        self.cumulative.partition_point(|&c| c <= r)
    }
}

/// A seeded source of synthetic people. One generator guarantees unique ID numbers and
/// phones across everything it produces.
pub struct SyntheticPeople {
    rng: StdRng,
    surnames: Weighted,
    prefixes: Weighted,
    /// The first 17 digits of every ID number issued, as an integer (fits in 57 bits).
    used_ids: HashSet<u64>,
    /// Every phone issued, as its index in the mobile number space.
    used_phones: HashSet<u64>,
}

/// Random draws before falling back to a sequential scan for a free ID sequence number.
const SERIAL_RANDOM_TRIES: usize = 8;
/// Random draws before walking the number space for a free phone.
const PHONE_RANDOM_TRIES: usize = 64;

impl SyntheticPeople {
    pub fn new(seed: u64) -> SyntheticPeople {
        SyntheticPeople {
            rng: StdRng::seed_from_u64(seed),
            surnames: Weighted::new(SURNAMES.iter().map(|(_, w)| *w)),
            prefixes: Weighted::new(MOBILE_PREFIXES.iter().map(|(_, w)| *w)),
            used_ids: HashSet::new(),
            used_phones: HashSet::new(),
        }
    }

    /// The generator's random stream, for the demo's other choices (addresses, tags), so
    /// one seed reproduces the whole city.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// Male or female with equal odds.
    pub fn gender(&mut self) -> Gender {
        if self.rng.gen_bool(0.5) {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// A full name: a surname by (Shandong-weighted) frequency and a given name typical of
    /// the sex and the birth year's generation. Always passes
    /// [`crate::name::PersonName::parse`].
    pub fn name(&mut self, gender: Gender, birth_year: i32) -> String {
        let surname = SURNAMES
            .get(self.surnames.pick(&mut self.rng))
            .map_or("王", |(s, _)| *s);
        let generation = GENERATIONS
            .iter()
            .find(|g| birth_year <= g.until_year)
            .unwrap_or(&GENERATIONS[GENERATIONS.len() - 1]);
        let single = self.rng.gen_range(0..100) < generation.single_pct;
        let pool = match (gender, single) {
            (Gender::Male, false) => generation.male,
            (Gender::Male, true) => generation.male_single,
            (Gender::Female, false) => generation.female,
            (Gender::Female, true) => generation.female_single,
        };
        let given = pool
            .get(self.rng.gen_range(0..pool.len().max(1)))
            .copied()
            .unwrap_or("明");
        let mut name = String::with_capacity(surname.len() + given.len());
        name.push_str(surname);
        name.push_str(given);
        name
    }

    /// A birth date giving an age between `age_min` and `age_max` (inclusive, in whole
    /// years) on `today`, uniformly over the days of that span, and never before 1900 (the
    /// earliest an ID number can encode). The bounds may come in either order.
    pub fn birth_date(&mut self, age_min: u32, age_max: u32, today: NaiveDate) -> NaiveDate {
        let (lo, hi) = (age_min.min(age_max), age_min.max(age_max));
        let years_ago = |n: u32| {
            n.checked_mul(12)
                .and_then(|m| today.checked_sub_months(Months::new(m)))
                .unwrap_or(NaiveDate::MIN)
        };
        let floor = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        // Youngest: turned `lo` today. Oldest: turns `hi + 1` tomorrow.
        let latest = years_ago(lo).max(floor);
        let earliest = years_ago(hi.saturating_add(1))
            .succ_opt()
            .unwrap_or(latest)
            .max(floor);
        let span = (latest - earliest).num_days();
        if span <= 0 {
            return latest;
        }
        let offset = self.rng.gen_range(0..=span);
        earliest
            .checked_add_signed(chrono::Duration::days(offset))
            .unwrap_or(latest)
    }

    /// A valid ID number for a person born on `birth` in the county `region6`, unique within
    /// this generator: the sequence number is drawn at random with the parity of `gender`
    /// (odd for men) and redrawn on collision.
    pub fn id_number(
        &mut self,
        region6: &str,
        birth: NaiveDate,
        gender: Gender,
    ) -> Result<IdNumber, SyntheticError> {
        if !is_valid_issuer(region6) {
            return Err(SyntheticError::InvalidRegion {
                code: region6.to_string(),
            });
        }
        let year = birth.year();
        if !(1900..=9999).contains(&year) {
            return Err(SyntheticError::InvalidBirthDate { date: birth });
        }
        let region: u64 = region6.parse().map_err(|_| SyntheticError::InvalidRegion {
            code: region6.to_string(),
        })?;
        // `year` is within 1900..=9999, so it is positive.
        let ymd = u64::from(year.unsigned_abs()) * 10_000
            + u64::from(birth.month()) * 100
            + u64::from(birth.day());
        let base = (region * 100_000_000 + ymd) * 1_000;
        // Sequence numbers 001–999; the last digit's parity is the sex. Female numbers skip
        // 000, which is never issued.
        let (first_k, parity) = match gender {
            Gender::Male => (0u64, 1u64),
            Gender::Female => (1u64, 0u64),
        };
        let choices = 500 - first_k;
        let serial = |k: u64| (first_k + k) * 2 + parity;

        let mut found = None;
        for _ in 0..SERIAL_RANDOM_TRIES {
            let candidate = base + serial(self.rng.gen_range(0..choices));
            if self.used_ids.insert(candidate) {
                found = Some(candidate);
                break;
            }
        }
        if found.is_none() {
            let start = self.rng.gen_range(0..choices);
            found = (0..choices)
                .map(|i| base + serial((start + i) % choices))
                .find(|candidate| self.used_ids.insert(*candidate));
        }
        let first17 = found.ok_or_else(|| SyntheticError::SerialsExhausted {
            region: region6.to_string(),
            date: birth,
        })?;
        IdNumber::from_first17(digits17(first17))
            .ok_or(SyntheticError::InvalidBirthDate { date: birth })
    }

    /// A mobile number with a realistic prefix, unique within this generator.
    pub fn mobile(&mut self) -> Phone {
        let mut index = 0;
        for _ in 0..PHONE_RANDOM_TRIES {
            let prefix = MOBILE_PREFIXES
                .get(self.prefixes.pick(&mut self.rng))
                .map_or(138, |(p, _)| *p);
            let number = prefix * 100_000_000 + self.rng.gen_range(0..100_000_000u64);
            index = number.saturating_sub(Phone::MOBILE_LOW);
            if self.used_phones.insert(index) {
                return Phone::from_index(index);
            }
        }
        // The space is nearly full (never in practice). Among `used + 1` consecutive numbers
        // at least one is free, so this walk always ends with a fresh number.
        let limit = u64::try_from(self.used_phones.len()).unwrap_or(u64::MAX);
        for step in 0..=limit {
            let candidate = (index + step) % Phone::MOBILE_SPAN;
            if self.used_phones.insert(candidate) {
                return Phone::from_index(candidate);
            }
        }
        Phone::from_index(index)
    }
}

/// The 17 ASCII digits of `n` (zero-padded).
fn digits17(mut n: u64) -> [u8; 17] {
    let mut out = [b'0'; 17];
    for slot in out.iter_mut().rev() {
        // `n % 10` is below 10, so the cast cannot truncate.
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::PersonName;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
    }

    const COUNTIES: [&str; 4] = ["370830", "370811", "370881", "370826"];

    #[test]
    fn twenty_thousand_unique_valid_people() {
        let mut g = SyntheticPeople::new(42);
        let mut ids = HashSet::new();
        let mut phones = HashSet::new();
        for i in 0..20_000 {
            let gender = g.gender();
            let birth = g.birth_date(0, 100, today());
            let region = COUNTIES[i % COUNTIES.len()];
            let id = g.id_number(region, birth, gender).unwrap();
            let parsed = IdNumber::parse_at(id.as_str(), today()).unwrap();
            assert_eq!(parsed.birth_date(), birth);
            assert_eq!(parsed.gender(), gender);
            assert_eq!(parsed.region_prefix(), region);
            assert!(ids.insert(id.as_str().to_string()), "duplicate ID");

            let phone = g.mobile();
            assert_eq!(Phone::parse(phone.as_str()).unwrap(), phone);
            assert!(phones.insert(phone), "duplicate phone");

            let name = g.name(gender, birth.year());
            PersonName::parse(&name).unwrap();
        }
    }

    #[test]
    fn same_seed_same_people() {
        let run = |seed: u64| {
            let mut g = SyntheticPeople::new(seed);
            (0..200)
                .map(|_| {
                    let gender = g.gender();
                    let birth = g.birth_date(60, 90, today());
                    let name = g.name(gender, birth.year());
                    let id = g.id_number("370830", birth, gender).unwrap();
                    let phone = g.mobile();
                    format!("{name} {} {}", id.as_str(), phone.as_str())
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn serials_run_out_cleanly() {
        let mut g = SyntheticPeople::new(1);
        let birth = NaiveDate::from_ymd_opt(1950, 10, 1).unwrap();
        let mut ids = HashSet::new();
        for _ in 0..500 {
            let id = g.id_number("370830", birth, Gender::Male).unwrap();
            assert_eq!(id.gender(), Gender::Male);
            assert!(ids.insert(id.as_str().to_string()));
        }
        assert_eq!(
            g.id_number("370830", birth, Gender::Male)
                .unwrap_err()
                .code(),
            "serials_exhausted"
        );
        for _ in 0..499 {
            let id = g.id_number("370830", birth, Gender::Female).unwrap();
            assert_ne!(&id.as_str()[14..17], "000");
        }
        assert!(g.id_number("370830", birth, Gender::Female).is_err());
        // Another county or day is unaffected.
        assert!(g.id_number("370831", birth, Gender::Male).is_ok());
    }

    #[test]
    fn rejects_bad_inputs() {
        let mut g = SyntheticPeople::new(1);
        let birth = NaiveDate::from_ymd_opt(1950, 10, 1).unwrap();
        assert_eq!(
            g.id_number("370800", birth, Gender::Male)
                .unwrap_err()
                .code(),
            "invalid_region"
        );
        assert_eq!(
            g.id_number("37083", birth, Gender::Male)
                .unwrap_err()
                .code(),
            "invalid_region"
        );
        let old = NaiveDate::from_ymd_opt(1899, 12, 31).unwrap();
        assert_eq!(
            g.id_number("370830", old, Gender::Male).unwrap_err().code(),
            "invalid_birth_date"
        );
    }

    #[test]
    fn birth_dates_respect_ages() {
        let mut g = SyntheticPeople::new(3);
        for _ in 0..5_000 {
            let b = g.birth_date(80, 89, today());
            let age = crate::id_number::age_on(b, today());
            assert!((80..=89).contains(&age), "{b} is {age}");
        }
        // Bounds in either order; a newborn may be born today.
        let b = g.birth_date(0, 0, today());
        assert!(b <= today() && crate::id_number::age_on(b, today()) == 0);
        let b = g.birth_date(5, 3, today());
        assert!((3..=5).contains(&crate::id_number::age_on(b, today())));
        // Never before 1900.
        let b = g.birth_date(200, 300, today());
        assert_eq!(b, NaiveDate::from_ymd_opt(1900, 1, 1).unwrap());
    }

    #[test]
    fn names_follow_generation_and_frequency() {
        let mut g = SyntheticPeople::new(5);
        let mut wang = 0;
        for _ in 0..10_000 {
            let n = g.name(Gender::Female, 1945);
            if n.starts_with('王') {
                wang += 1;
            }
        }
        // 王 is about 9.5 % of the weight.
        assert!((700..1200).contains(&wang), "{wang}");
        let old: Vec<String> = (0..50).map(|_| g.name(Gender::Female, 1940)).collect();
        assert!(old.iter().any(|n| n.ends_with("英") || n.ends_with("兰")));
        let young: Vec<String> = (0..50).map(|_| g.name(Gender::Male, 2015)).collect();
        assert!(young.iter().all(|n| !n.ends_with("建国")));
    }

    #[test]
    fn phones_use_known_prefixes() {
        let mut g = SyntheticPeople::new(9);
        for _ in 0..1_000 {
            let p = g.mobile();
            let prefix: u64 = p.as_str()[..3].parse().unwrap();
            assert!(MOBILE_PREFIXES.iter().any(|(q, _)| *q == prefix));
        }
    }

    #[test]
    fn tables_are_sane() {
        for (s, w) in SURNAMES {
            assert_eq!(s.chars().count(), 1);
            assert!(w > 0);
        }
        let distinct: HashSet<&str> = SURNAMES.iter().map(|(s, _)| *s).collect();
        assert_eq!(distinct.len(), SURNAMES.len());
        for g in &GENERATIONS {
            for n in g.male.iter().chain(g.female) {
                assert_eq!(n.chars().count(), 2, "{n}");
            }
            for n in g.male_single.iter().chain(g.female_single) {
                assert_eq!(n.chars().count(), 1, "{n}");
            }
        }
    }

    /// Run with `cargo test -p yinling_domain --release -- --ignored million` to check the
    /// one-million-people budget.
    #[test]
    #[ignore = "timing check, run in release mode"]
    fn million_people_fast() {
        let start = std::time::Instant::now();
        let mut g = SyntheticPeople::new(2026);
        let mut bytes = 0usize;
        for i in 0..1_000_000 {
            let gender = g.gender();
            let birth = g.birth_date(0, 100, today());
            let name = g.name(gender, birth.year());
            let id = g
                .id_number(COUNTIES[i % COUNTIES.len()], birth, gender)
                .unwrap();
            let phone = g.mobile();
            bytes += name.len() + id.as_str().len() + phone.as_str().len();
        }
        let elapsed = start.elapsed();
        eprintln!("1,000,000 people in {elapsed:?} ({bytes} bytes)");
        assert!(elapsed.as_secs_f64() < 2.0, "{elapsed:?}");
    }
}
