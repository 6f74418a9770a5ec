//! Key generation and signing times per key spec, in whatever profile it is built with: the
//! figures behind the `[profile.dev.package.*]` opt-levels of the bignum crates. A measurement,
//! not a test.
//!
//! ```sh
//! cargo run --example keygen_times              # the dev profile the test suite uses
//! cargo run --release --example keygen_times    # what the release binary does
//! cargo run --example keygen_times -- 20        # 20 rounds per spec (default 5)
//! ```

use std::time::{Duration, Instant};

use kms_emulator::crypto::{key_import, key_material, signing};
use kms_emulator::domain::key_spec::{KeySpec, KeyUsage, MessageType, WrappingKeySpec};

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64;
    format!(
        "min {:>9.1} ms  median {:>9.1} ms  max {:>9.1} ms  mean {:>9.1} ms",
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1]),
        mean
    )
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(5);
    println!("{rounds} rounds per line");
    for spec in KeySpec::ALL {
        let mut generation = Vec::new();
        let mut signing_times = Vec::new();
        for _ in 0..rounds {
            let started = Instant::now();
            let material = key_material::generate_material(spec);
            generation.push(started.elapsed());
            if let Some(&algorithm) = spec.signing_algorithms(KeyUsage::SignVerify).first() {
                let started = Instant::now();
                signing::sign(spec, &material, algorithm, MessageType::Raw, b"message")
                    .expect("signing a fresh key");
                signing_times.push(started.elapsed());
            }
        }
        println!(
            "{:<24} generate  {}",
            format!("{spec:?}"),
            summary(generation)
        );
        if !signing_times.is_empty() {
            println!("{:<24} sign      {}", "", summary(signing_times));
        }
    }
    for spec in [
        WrappingKeySpec::Rsa2048,
        WrappingKeySpec::Rsa3072,
        WrappingKeySpec::Rsa4096,
    ] {
        let samples = (0..rounds)
            .map(|_| {
                let started = Instant::now();
                key_import::generate_wrapping_key_pair(spec);
                started.elapsed()
            })
            .collect();
        println!(
            "wrapping {:<15} generate  {}",
            spec.name(),
            summary(samples)
        );
    }
}
