use std::time::Instant;
use staging_core::Filters;
fn main() {
    let roots = ["apps/express-api/src/routes","apps/client-ui/src/components","packages/ui-library/src","packages/config-eslint","infrastructure/modules/ecs","packages/db/migrations","docs/guides",".github/workflows"];
    let exts = ["ts", "tsx", "sql", "md", "json", "yml"];
    let paths: Vec<String> = (0..3000).map(|i| format!("{}/dir{}/file{i}.{}", roots[i % roots.len()], i % 17, exts[i % exts.len()])).collect();
    let sets: Vec<(&str, Vec<&str>)> = vec![
        ("all", vec!["apps/express-api/**","packages/macro-ai-api-client/**","packages/config-*/**","drizzle.config.ts","**/*.sql","apps/client-ui/**","packages/ui-library/**","tailwind.config.ts","postcss.config.js","infrastructure/**",".github/workflows/**","docker-compose.yml","package.json","pnpm-lock.yaml","turbo.json","eslint.config.js","**/migrations/**"]),
        ("no config-*", vec!["apps/express-api/**","packages/macro-ai-api-client/**","drizzle.config.ts","**/*.sql","apps/client-ui/**","packages/ui-library/**","tailwind.config.ts","postcss.config.js","infrastructure/**",".github/workflows/**","docker-compose.yml","package.json","pnpm-lock.yaml","turbo.json","eslint.config.js","**/migrations/**"]),
        ("no migrations", vec!["apps/express-api/**","packages/macro-ai-api-client/**","packages/config-*/**","drizzle.config.ts","**/*.sql","apps/client-ui/**","packages/ui-library/**","tailwind.config.ts","postcss.config.js","infrastructure/**",".github/workflows/**","docker-compose.yml","package.json","pnpm-lock.yaml","turbo.json","eslint.config.js"]),
        ("prefix only", vec!["apps/express-api/**","apps/client-ui/**","infrastructure/**"]),
        ("literals only", vec!["package.json","pnpm-lock.yaml"]),
    ];
    for (name, pats) in sets {
        let f = Filters::new(vec![("f".into(), pats.iter().map(|s| s.to_string()).collect())]).unwrap();
        let t = Instant::now();
        for _ in 0..200 { std::hint::black_box(f.classify(paths.iter().map(String::as_str))); }
        println!("{name}: {:?}/push", t.elapsed() / 200);
    }
}
