//! Writes a synthetic Iggy data directory for benchmarks: valid segments, indexes and
//! checksums in the 0.8 or 0.9 layout, so the inspector does all of its work on it.
//!
//! `cargo run --release -p snapdesk-iggy --example synth_data -- DIR SIZE_MIB [0.8|0.9]`
//!
//! Partitions of 1 GiB segments under `streams/0/topics/0/partitions/<p>/`, messages of
//! 200 to 2,000 bytes (a payload of pseudo-random text), every fifth with a user header.

use std::fs::{self, File};
use std::hash::Hasher;
use std::io::{BufWriter, Write};
use std::path::Path;

use twox_hash::XxHash3_64;

const SEGMENT: u64 = 1024 * 1024 * 1024;
const PARTITIONS: u64 = 4;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn payload(rng: &mut Rng, buf: &mut Vec<u8>) {
    buf.clear();
    let len = 200 + (rng.next() % 1800) as usize;
    while buf.len() < len {
        let w = rng.next();
        buf.extend_from_slice(format!("{w:016x} ").as_bytes());
    }
    buf.truncate(len);
}

const HEADER: &[u8] = &[
    2, 4, 0, 0, 0, b'h', b'o', b's', b't', 2, 6, 0, 0, 0, b'n', b'o', b'd', b'e', b'-', b'a',
];

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: synth_data DIR SIZE_MIB [0.8|0.9]");
        std::process::exit(2);
    }
    let root = Path::new(&args[1]);
    let total: u64 = args[2].parse::<u64>().expect("SIZE_MIB") * 1024 * 1024;
    let v09 = args.get(3).map(String::as_str) != Some("0.8");
    if v09 {
        fs::create_dir_all(root.join("metadata"))?;
        File::create(root.join("metadata/journal.wal"))?;
    } else {
        fs::create_dir_all(root.join("state"))?;
        File::create(root.join("state/log"))?;
    }
    let per_partition = total / PARTITIONS;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut body = Vec::new();
    for p in 0..PARTITIONS {
        let dir = root.join(format!("streams/0/topics/0/partitions/{p}"));
        fs::create_dir_all(dir.join("offsets/consumers"))?;
        let mut offset = 0u64;
        let mut written = 0u64;
        while written < per_partition {
            let start = offset;
            let mut log = BufWriter::with_capacity(
                4 << 20,
                File::create(dir.join(format!("{start:020}.log")))?,
            );
            let mut idx = BufWriter::new(File::create(dir.join(format!("{start:020}.index")))?);
            let mut seg = 0u64;
            while seg < SEGMENT && written < per_partition {
                if v09 {
                    // One batch of 100 messages.
                    let base = offset;
                    let mut blob = Vec::with_capacity(120 * 1024);
                    let mut sums = Vec::with_capacity(100);
                    for i in 0..100u32 {
                        payload(&mut rng, &mut body);
                        let uh: &[u8] = if (base + u64::from(i)) % 5 == 0 {
                            HEADER
                        } else {
                            &[]
                        };
                        let mut f = vec![0u8; 48];
                        f[8..24].copy_from_slice(&u128::from(rng.next()).to_le_bytes());
                        f[24..28].copy_from_slice(&i.to_le_bytes());
                        f[28..32].copy_from_slice(&(i * 10).to_le_bytes());
                        f[32..36].copy_from_slice(&(uh.len() as u32).to_le_bytes());
                        f[36..40].copy_from_slice(&(body.len() as u32).to_le_bytes());
                        f.extend_from_slice(&body);
                        f.extend_from_slice(uh);
                        let sum = XxHash3_64::oneshot(&f[8..]);
                        f[..8].copy_from_slice(&sum.to_le_bytes());
                        sums.push(sum);
                        blob.extend_from_slice(&f);
                    }
                    let length = 256 + blob.len() as u64;
                    let mut h = [0u8; 256];
                    h[0..8].copy_from_slice(&p.to_le_bytes());
                    h[8..16].copy_from_slice(&base.to_le_bytes());
                    h[16..24].copy_from_slice(&1_700_000_000_000_000u64.to_le_bytes());
                    h[24..32].copy_from_slice(&1_700_000_000_000_000u64.to_le_bytes());
                    h[32..40].copy_from_slice(&length.to_le_bytes());
                    h[48..52].copy_from_slice(&100u32.to_le_bytes());
                    let mut bh = XxHash3_64::new();
                    for at in [0usize, 8, 16, 24, 32] {
                        bh.write(&h[at..at + 8]);
                    }
                    bh.write(&h[48..52]);
                    for s in &sums {
                        bh.write(&s.to_le_bytes());
                    }
                    h[40..48].copy_from_slice(&bh.finish().to_le_bytes());
                    idx.write_all(&base.to_le_bytes())?;
                    idx.write_all(&0u64.to_le_bytes())?;
                    idx.write_all(&seg.to_le_bytes())?;
                    log.write_all(&h)?;
                    log.write_all(&blob)?;
                    offset += 100;
                    seg += length;
                    written += length;
                } else {
                    payload(&mut rng, &mut body);
                    let uh: &[u8] = if offset % 5 == 0 { HEADER } else { &[] };
                    let mut m = vec![0u8; 64];
                    m[8..24].copy_from_slice(&u128::from(rng.next()).to_le_bytes());
                    m[24..32].copy_from_slice(&offset.to_le_bytes());
                    m[48..52].copy_from_slice(&(uh.len() as u32).to_le_bytes());
                    m[52..56].copy_from_slice(&(body.len() as u32).to_le_bytes());
                    m.extend_from_slice(&body);
                    m.extend_from_slice(uh);
                    let sum = XxHash3_64::oneshot(&m[8..]);
                    m[..8].copy_from_slice(&sum.to_le_bytes());
                    seg += m.len() as u64;
                    written += m.len() as u64;
                    idx.write_all(&((offset - start) as u32).to_le_bytes())?;
                    idx.write_all(&(seg as u32).to_le_bytes())?;
                    idx.write_all(&0u64.to_le_bytes())?;
                    log.write_all(&m)?;
                    offset += 1;
                }
            }
            log.flush()?;
            idx.flush()?;
        }
        let mut rec = (offset / 2).to_le_bytes().to_vec();
        if v09 {
            rec.extend_from_slice(&XxHash3_64::oneshot(&rec).to_le_bytes());
        }
        fs::write(dir.join("offsets/consumers/1"), rec)?;
    }
    Ok(())
}
