//! regorus 0.14.1: the interpreter (`Engine::eval_rule`, what `Engine::decide`
//! uses) against the compiled RVM program, on the same single-pass rule and
//! the same input. Checks the results are equal, then alternates the two,
//! measuring the thread's CPU time per evaluation.
//!
//! Usage (from bench/policy/rvm):
//!   cargo run --release -- ../out/input.json ../../../crates/palisade-policy/policies/palisade [iterations]
//! `../out/input.json` is the prepared input exported by `bench/policy/run.sh`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::RegoVM;
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Rc, Value};

/// The rules `Engine::decide` evaluates in the `prod` environment of the
/// bench (every policy enforced), in its single-pass form.
const SINGLE_PASS: &str = r#"package palisade_engine_internal
env_0 := [[x | x := data.palisade.code_review.deny], [x | x := data.palisade.image_digest.deny], [x | x := data.palisade.license.deny], [x | x := data.palisade.license.warn], [x | x := data.palisade.max_severity.deny], [x | x := data.palisade.sbom_attestation.deny], [x | x := data.palisade.slsa_provenance.deny], [x | x := data.palisade.vulnerabilities.deny]]
"#;
const RULE: &str = "data.palisade_engine_internal.env_0";

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn timer(limit: Duration) -> ExecutionTimerConfig {
    ExecutionTimerConfig {
        limit,
        check_interval: std::num::NonZeroU32::new(32).unwrap_or(std::num::NonZeroU32::MIN),
    }
}

fn engine(policies: &str, extra: &[(&str, &str)]) -> Result<Engine> {
    let mut rego = Engine::new();
    rego.set_rego_v0(false);
    rego.set_strict_builtin_errors(true);
    rego.set_gather_prints(true);
    let mut files: Vec<_> = std::fs::read_dir(policies)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.sort();
    for path in files {
        let name = path.to_string_lossy().to_string();
        if name.ends_with(".rego") && !name.ends_with("_test.rego") {
            rego.add_policy(name, std::fs::read_to_string(&path)?)?;
        }
    }
    rego.add_policy("palisade_engine_internal.rego".into(), SINGLE_PASS.into())?;
    for (name, text) in extra {
        rego.add_policy((*name).into(), (*text).into())?;
    }
    rego.set_execution_timer_config(timer(Duration::from_secs(1)));
    Ok(rego)
}

fn vm_for(rego: &mut Engine, rule: &str) -> Result<(Arc<regorus::rvm::Program>, RegoVM)> {
    let compiled = rego.compile_with_entrypoint(&Rc::from(rule))?;
    let program = Compiler::compile_from_policy(&compiled, &[rule])?;
    let mut vm = RegoVM::new();
    vm.load_program(program.clone());
    vm.set_strict_builtin_errors(true);
    vm.set_max_instructions(usize::MAX);
    vm.set_execution_timer_config(Some(timer(Duration::from_secs(1))));
    vm.set_data(Value::new_object())?;
    Ok((program, vm))
}

/// Every rule, alone and in the single pass, both ways, on every prepared
/// input in `dir` (written by the scenario test with
/// `PALISADE_SCENARIO_INPUTS`).
fn scenarios(dir: &str, policies: &str) -> Result<()> {
    let mut rules: Vec<String> = SINGLE_PASS
        .split("x := ")
        .skip(1)
        .map(|r| r.split(']').next().unwrap_or_default().to_string())
        .collect();
    rules.push(RULE.to_string());
    let interp = engine(policies, &[])?;
    let mut programs = Vec::new();
    for rule in &rules {
        let mut e = engine(policies, &[])?;
        programs.push(vm_for(&mut e, rule)?.0);
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.sort();
    let (mut same, mut different, mut nonempty) = (0, 0, 0);
    for file in &files {
        let input = Value::from_json_file(file)?;
        for (rule, program) in rules.iter().zip(&programs) {
            let mut rego = interp.clone();
            rego.set_input(input.clone());
            let a = rego.eval_rule(rule.clone()).map_err(|e| format!("{e:#}"));
            let mut vm = RegoVM::new();
            vm.load_program(program.clone());
            vm.set_strict_builtin_errors(true);
            vm.set_max_instructions(usize::MAX);
            vm.set_execution_timer_config(Some(timer(Duration::from_secs(1))));
            vm.set_data(Value::new_object())?;
            vm.set_input(input.clone());
            let b = vm.execute().map_err(|e| format!("{e}"));
            let equal = match (&a, &b) {
                (Ok(x), Ok(y)) => x == y,
                (Err(_), Err(_)) => true,
                _ => false,
            };
            if equal {
                same += 1;
                if let Ok(Value::Set(s)) = &a
                    && !s.is_empty()
                {
                    nonempty += 1;
                }
            } else {
                different += 1;
                println!(
                    "DIFFERENT {} {rule}:\n  interpreter {a:?}\n  rvm {b:?}",
                    file.display()
                );
            }
        }
    }
    println!(
        "{} inputs x {} rules: {same} equal ({nonempty} of them non-empty violation sets), {different} different",
        files.len(),
        rules.len()
    );
    Ok(())
}

/// Policies that fail: both ways, what each says.
fn probe(policies: &str) -> Result<()> {
    let cases = [
        (
            "builtin error",
            "package p\ndeny contains \"x\" if { to_number(\"not a number\") > 1 }\n",
            "data.p.deny",
        ),
        (
            "conflicting values",
            "package p\nallow := true\nallow := false if true\n",
            "data.p.allow",
        ),
        (
            "undefined deny",
            "package p\ndeny := {\"x\"} if input.never\n",
            "data.p.deny",
        ),
        (
            "re2 classes",
            "package p\ndeny contains \"matched\" if regex.match(`^\\s\\d\\p{L}$`, \" 1\u{e9}\")\n",
            "data.p.deny",
        ),
        (
            "type error in comparison",
            "package p\ndeny contains \"x\" if { input.artifact.name + 1 > 0 }\n",
            "data.p.deny",
        ),
        (
            "sprintf",
            "package p\ndeny contains sprintf(\"%s has %d\", [input.artifact.name, count(input.findings)]) if true\n",
            "data.p.deny",
        ),
        (
            "single-pass shape",
            "package q\nall := [[x | x := data.p2.deny], [x | x := data.p2.allow]]\n",
            "data.q.all",
        ),
        (
            "recursive rules",
            "package p\n\na := b\n\nb := a\n\nwarn contains \"x\" if a == 1\n",
            "data.p.warn",
        ),
    ];
    let extra = "package p2\ndeny contains \"y\" if true\n";
    let input = Value::from_json_str(
        r#"{"artifact": {"name": "app", "digest": "sha256:ab"}, "findings": [1, 2]}"#,
    )?;
    for (name, text, rule) in cases {
        let mut a_engine = engine(policies, &[("probe.rego", text), ("p2.rego", extra)])?;
        a_engine.set_input(input.clone());
        let a = a_engine
            .eval_rule(rule.into())
            .map_err(|e| format!("{e:#}"));
        let mut b_engine = engine(policies, &[("probe.rego", text), ("p2.rego", extra)])?;
        let b = match vm_for(&mut b_engine, rule) {
            Ok((_, mut vm)) => {
                vm.set_input(input.clone());
                vm.execute()
                    .map(|v| v.to_string())
                    .map_err(|e| format!("{e}"))
            }
            Err(e) => Err(format!("does not compile: {e:#}")),
        };
        println!(
            "{name}:\n  interpreter {:?}\n  rvm         {b:?}",
            a.map(|v| v.to_string())
        );
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        bail!("usage: {} INPUT.json POLICY_DIR [ITERATIONS]", args[0]);
    }
    if args[1] == "--micro" {
        // The artifact digest's parts alone: engine clone + eval_rule.
        let input = Value::from_json_file(&args[2])?;
        let mut rego = engine(&args[3], &[])?;
        rego.set_input(input.clone());
        let rule = "data.palisade.lib.artifact_hex";
        println!("{}", rego.eval_rule(rule.into())?);
        let n = 20_000;
        let t = thread_cpu();
        for _ in 0..n {
            let mut r = rego.clone();
            r.set_input(input.clone());
            let _ = r.eval_rule(rule.into())?;
        }
        println!(
            "{rule}: CPU {:.2} us per evaluation",
            (thread_cpu() - t).as_secs_f64() * 1e6 / n as f64
        );
        return Ok(());
    }
    if args[1] == "--probe" {
        return probe(&args[2]);
    }
    if args[1] == "--scenarios" {
        return scenarios(&args[2], &args[3]);
    }
    let input = Value::from_json_file(&args[1]).context("input")?;
    let iterations: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(2000);

    // The interpreter, prepared as `Engine::new` does (one warm-up evaluation).
    let mut interp = engine(&args[2], &[])?;
    interp.set_input(input.clone());
    let reference = interp.eval_rule(RULE.into())?;

    // The compiled program.
    let t = std::time::Instant::now();
    let mut compiler_engine = engine(&args[2], &[])?;
    let (program, mut vm) = vm_for(&mut compiler_engine, RULE)?;
    println!(
        "compiled {} instructions in {:.1} ms",
        program.instructions.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    vm.set_input(input.clone());
    let compiled_result = vm.execute()?;
    println!(
        "results equal: {} ({} elements; violations per rule: {:?})",
        reference == compiled_result,
        match &reference {
            Value::Array(a) => a.len(),
            _ => 0,
        },
        match &reference {
            Value::Array(a) => a
                .iter()
                .map(|v| match v {
                    Value::Array(one) => match one.first() {
                        Some(Value::Set(s)) => s.len() as i64,
                        Some(Value::Array(s)) => s.len() as i64,
                        _ => -1,
                    },
                    _ => -2,
                })
                .collect::<Vec<_>>(),
            _ => vec![],
        }
    );
    if reference != compiled_result {
        println!("interpreter: {reference}");
        println!("rvm: {compiled_result}");
    }

    // Endless policy: does the VM stop it on its timer?
    let endless = "package endless\nspin if {\n  count([1 | some a in numbers.range(1, 1000); some b in numbers.range(1, 1000); some c in numbers.range(1, 1000); some d in numbers.range(1, 1000)]) < 0\n}\n";
    let mut e = engine(&args[2], &[("endless.rego", endless)])?;
    match vm_for(&mut e, "data.endless.spin") {
        Ok((_, mut evm)) => {
            evm.set_execution_timer_config(Some(timer(Duration::from_millis(50))));
            evm.set_input(input.clone());
            let t = std::time::Instant::now();
            let r = evm.execute();
            println!(
                "endless under the VM: {:?} after {:.0} ms; VmError::TimeLimitExceeded: {}",
                r.as_ref()
                    .map(|v| v.to_string())
                    .map_err(|e| format!("{e}")),
                t.elapsed().as_secs_f64() * 1e3,
                matches!(r, Err(regorus::rvm::vm::VmError::TimeLimitExceeded { .. }))
            );
        }
        Err(err) => println!("endless: does not compile: {err:#}"),
    }
    let endless2 = "package endless2\nloop if { some a in numbers.range(1, 100000); some b in numbers.range(1, 100000); a + b < 0 }\n";
    let mut e = engine(&args[2], &[("endless2.rego", endless2)])?;
    match vm_for(&mut e, "data.endless2.loop") {
        Ok((_, mut evm)) => {
            evm.set_execution_timer_config(Some(timer(Duration::from_millis(50))));
            evm.set_input(input.clone());
            let t = std::time::Instant::now();
            let r = evm.execute();
            println!(
                "nested loops under the VM: {:?} after {:.0} ms; VmError::TimeLimitExceeded: {}",
                r.as_ref()
                    .map(|v| v.to_string())
                    .map_err(|e| format!("{e}")),
                t.elapsed().as_secs_f64() * 1e3,
                matches!(r, Err(regorus::rvm::vm::VmError::TimeLimitExceeded { .. }))
            );
        }
        Err(err) => println!("nested loops: does not compile: {err:#}"),
    }

    // Alternating measurement: rounds of `iterations / 10` of each.
    let mut a = Vec::with_capacity(iterations);
    let mut b = Vec::with_capacity(iterations);
    let mut c = Vec::with_capacity(iterations);
    let round = (iterations / 10).max(1);
    for _ in 0..10 {
        for _ in 0..round {
            let t = thread_cpu();
            let mut rego = interp.clone();
            rego.set_input(input.clone());
            rego.set_execution_timer_config(timer(Duration::from_secs(1)));
            let v = rego.eval_rule(RULE.into())?;
            drop(rego);
            a.push(thread_cpu() - t);
            assert!(v == reference);
        }
        for _ in 0..round {
            let t = thread_cpu();
            vm.set_input(input.clone());
            vm.set_execution_timer_config(Some(timer(Duration::from_secs(1))));
            let v = vm.execute()?;
            b.push(thread_cpu() - t);
            assert!(v == reference);
        }
        for _ in 0..round {
            let t = thread_cpu();
            let mut fresh = RegoVM::new();
            fresh.load_program(program.clone());
            fresh.set_strict_builtin_errors(true);
            fresh.set_max_instructions(usize::MAX);
            fresh.set_execution_timer_config(Some(timer(Duration::from_secs(1))));
            fresh.set_data(Value::new_object())?;
            fresh.set_input(input.clone());
            let v = fresh.execute()?;
            drop(fresh);
            c.push(thread_cpu() - t);
            assert!(v == reference);
        }
    }
    for (name, mut xs) in [
        ("interpreter (engine clone + eval_rule)", a),
        ("rvm, one VM reused", b),
        ("rvm, a new VM per evaluation", c),
    ] {
        let mean = xs.iter().sum::<Duration>().as_secs_f64() * 1e3 / xs.len() as f64;
        xs.sort();
        println!(
            "{name}: CPU mean {mean:.3} ms, p50 {:.3} ms, p99 {:.3} ms ({} samples)",
            percentile(&xs, 0.5),
            percentile(&xs, 0.99),
            xs.len()
        );
    }
    Ok(())
}
