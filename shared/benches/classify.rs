//! Target: a 3,000-file push (GitHub's per-commit cap) classified in ≤ 0.4 ms. Two inputs: the
//! paths in push order (what picomatch is timed on in scripts/bench), and sorted and unique
//! (what the webhook passes: `changed_files` yields them so). Both reuse the filters' lazy
//! DFA as a warm function does; a third times the first push after the filters compile.
//! `cargo bench -p staging-core --bench classify`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use staging_core::Filters;

/// 3,000 paths shaped like a monorepo push: deep sources, root configs, migrations, docs.
fn push_paths() -> Vec<String> {
    let roots = [
        "apps/express-api/src/routes",
        "apps/client-ui/src/components",
        "packages/ui-library/src",
        "packages/config-eslint",
        "infrastructure/modules/ecs",
        "packages/db/migrations",
        "docs/guides",
        ".github/workflows",
    ];
    let exts = ["ts", "tsx", "sql", "md", "json", "yml"];
    (0..3000).map(|i| format!("{}/dir{}/file{i}.{}", roots[i % roots.len()], i % 17, exts[i % exts.len()])).collect()
}

fn benches(c: &mut Criterion) {
    let filters = Filters::builtin();
    let paths = push_paths();
    c.bench_function("classify 3,000 paths, built-in filters", |b| {
        b.iter(|| black_box(filters.classify(black_box(&paths).iter().map(String::as_str))))
    });
    let mut sorted = paths.clone();
    sorted.sort();
    c.bench_function("classify 3,000 sorted paths, built-in filters", |b| {
        b.iter(|| black_box(filters.classify(black_box(&sorted).iter().map(String::as_str))))
    });
    // The first push a container classifies: the same filters, but none of the lazy DFA's
    // transitions computed yet (the two above reuse those of the runs before them).
    c.bench_function("classify 3,000 paths, first push after compiling the filters", |b| {
        b.iter_batched_ref(
            Filters::builtin,
            |fresh| black_box(fresh.classify(black_box(&paths).iter().map(String::as_str))).matched().count(),
            criterion::BatchSize::SmallInput,
        )
    });
    c.bench_function("compile the built-in filters", |b| b.iter(|| black_box(Filters::builtin())));
}

criterion_group!(classify, benches);
criterion_main!(classify);
