//! Refusing recursive functions when a bundle is compiled.
//!
//! Rego forbids recursion, and OPA rejects it when compiling. regorus 0.14
//! detects a rule that depends on itself while evaluating, but not a
//! function that calls itself, directly or through other functions: it
//! recurses until the thread's stack overflows, which aborts the whole
//! process (a server, a CI gate) before the evaluation limit can stop it.
//! So the engine walks the parsed modules, builds the graph of calls between
//! user-defined functions, and refuses a bundle with a cycle, naming it.
//!
//! Cycles that pass through a rule are left to regorus's own check ("recursion
//! detected when evaluating rule"), which fails the evaluation cleanly. The
//! graph over-approximates (a call to a name is an edge to every function
//! with that path, whatever the arity), which can only refuse more.

use std::collections::{BTreeMap, BTreeSet};

use regorus::unstable::{Expr, Literal, Parser, Query, Rule, RuleHead};

use crate::engine::error_text;
use crate::error::{PolicyError, Result};

type ExprRef = regorus::unstable::Ref<Expr>;

/// The components of a reference (`data.a.b`, `lib.f`), or `None` when it
/// is not a plain path.
fn components(e: &ExprRef) -> Option<Vec<String>> {
    Parser::get_path_ref_components(e)
        .ok()
        .map(|c| c.iter().map(|s| s.text().to_string()).collect())
}

/// How names resolve inside one module.
struct Scope {
    package: Vec<String>,
    imports: BTreeMap<String, Vec<String>>,
}

impl Scope {
    /// The full `data.` path a called name refers to.
    fn resolve(&self, path: &[String]) -> String {
        let full: Vec<String> = match path.split_first() {
            Some((first, _)) if first == "data" => path.to_vec(),
            Some((first, rest)) => match self.imports.get(first) {
                Some(target) => target.iter().chain(rest).cloned().collect(),
                None => self.package.iter().chain(path).cloned().collect(),
            },
            None => self.package.clone(),
        };
        full.join(".")
    }
}

/// Every called name in an expression tree, resolved.
fn calls_in_expr(e: &ExprRef, scope: &Scope, out: &mut BTreeSet<String>) {
    match e.as_ref() {
        Expr::String { .. }
        | Expr::RawString { .. }
        | Expr::Number { .. }
        | Expr::Bool { .. }
        | Expr::Null { .. }
        | Expr::Var { .. } => {}
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for i in items {
                calls_in_expr(i, scope, out);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, k, v) in fields {
                calls_in_expr(k, scope, out);
                calls_in_expr(v, scope, out);
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            calls_in_expr(term, scope, out);
            calls_in_query(query, scope, out);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            calls_in_expr(key, scope, out);
            calls_in_expr(value, scope, out);
            calls_in_query(query, scope, out);
        }
        Expr::Call { fcn, params, .. } => {
            if let Some(path) = components(fcn) {
                out.insert(scope.resolve(&path));
            }
            calls_in_expr(fcn, scope, out);
            for p in params {
                calls_in_expr(p, scope, out);
            }
        }
        Expr::UnaryExpr { expr, .. } => calls_in_expr(expr, scope, out),
        Expr::RefDot { refr, .. } => calls_in_expr(refr, scope, out),
        Expr::RefBrack { refr, index, .. } => {
            calls_in_expr(refr, scope, out);
            calls_in_expr(index, scope, out);
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            calls_in_expr(lhs, scope, out);
            calls_in_expr(rhs, scope, out);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(k) = key {
                calls_in_expr(k, scope, out);
            }
            calls_in_expr(value, scope, out);
            calls_in_expr(collection, scope, out);
        }
    }
}

fn calls_in_query(q: &regorus::unstable::Ref<Query>, scope: &Scope, out: &mut BTreeSet<String>) {
    for stmt in &q.stmts {
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(k) = key {
                    calls_in_expr(k, scope, out);
                }
                calls_in_expr(value, scope, out);
                calls_in_expr(collection, scope, out);
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                calls_in_expr(expr, scope, out);
            }
            Literal::Every { domain, query, .. } => {
                calls_in_expr(domain, scope, out);
                calls_in_query(query, scope, out);
            }
        }
        for w in &stmt.with_mods {
            // `with f as g` makes a call of f a call of g.
            if let Some(path) = components(&w.r#as) {
                out.insert(scope.resolve(&path));
            }
            calls_in_expr(&w.refr, scope, out);
            calls_in_expr(&w.r#as, scope, out);
        }
    }
}

/// Refuses a set of modules in which a user-defined function can call
/// itself, directly or through other functions.
pub(crate) fn check(rego: &mut regorus::Engine) -> Result<()> {
    // Function path -> (file, the functions and names it calls).
    let mut graph: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for module in rego.get_modules().iter() {
        let file = module.package.span.source.get_path().to_string();
        let package = Parser::get_path_ref_components(&module.package.refr).map_err(|e| {
            PolicyError::Rego {
                path: file.clone(),
                message: error_text(&e),
            }
        })?;
        let mut package: Vec<String> = package.iter().map(|s| s.text().to_string()).collect();
        if package.first().is_none_or(|c| c != "data") {
            package.insert(0, "data".into());
        }
        let mut imports = BTreeMap::new();
        for import in &module.imports {
            let Some(target) = components(&import.refr) else {
                continue;
            };
            if target.first().is_none_or(|c| c != "data") {
                continue;
            }
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => target.last().cloned().unwrap_or_default(),
            };
            imports.insert(alias, target);
        }
        let scope = Scope { package, imports };
        for rule in &module.policy {
            let Rule::Spec { head, bodies, .. } = rule.as_ref() else {
                continue;
            };
            let RuleHead::Func {
                refr, args, assign, ..
            } = head
            else {
                continue;
            };
            let Some(name) = components(refr) else {
                continue;
            };
            let mut calls = BTreeSet::new();
            for a in args {
                calls_in_expr(a, &scope, &mut calls);
            }
            if let Some(assign) = assign {
                calls_in_expr(&assign.value, &scope, &mut calls);
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    calls_in_expr(&assign.value, &scope, &mut calls);
                }
                calls_in_query(&body.query, &scope, &mut calls);
            }
            let entry = graph
                .entry(scope.resolve(&name))
                .or_insert_with(|| (file.clone(), BTreeSet::new()));
            entry.1.extend(calls);
        }
    }
    // Depth-first search for a cycle, iteratively (a hostile bundle could
    // chain many functions).
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in graph.keys() {
        if done.contains(start.as_str()) {
            continue;
        }
        let mut path: Vec<&str> = vec![start];
        let mut on_path: BTreeSet<&str> = BTreeSet::from([start.as_str()]);
        let mut stack: Vec<Vec<&str>> = vec![callees(&graph, start)];
        while let Some(next) = stack.last_mut() {
            match next.pop() {
                Some(callee) if on_path.contains(callee) => {
                    let from = path.iter().position(|p| *p == callee).unwrap_or(0);
                    let mut cycle: Vec<&str> = path[from..].to_vec();
                    cycle.push(callee);
                    let file = graph.get(callee).map(|g| g.0.clone()).unwrap_or_default();
                    return Err(PolicyError::Rego {
                        path: file,
                        message: format!(
                            "recursion: the function {} calls itself ({}); Rego does not allow recursion",
                            callee.trim_start_matches("data."),
                            cycle
                                .iter()
                                .map(|c| c.trim_start_matches("data."))
                                .collect::<Vec<_>>()
                                .join(" -> ")
                        ),
                    });
                }
                Some(callee) if !done.contains(callee) => {
                    path.push(callee);
                    on_path.insert(callee);
                    stack.push(callees(&graph, callee));
                }
                Some(_) => {}
                None => {
                    stack.pop();
                    if let Some(p) = path.pop() {
                        on_path.remove(p);
                        done.insert(p);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The user-defined functions a function calls.
fn callees<'a>(graph: &'a BTreeMap<String, (String, BTreeSet<String>)>, f: &str) -> Vec<&'a str> {
    graph
        .get(f)
        .map(|(_, calls)| {
            calls
                .iter()
                .filter_map(|c| graph.get_key_value(c).map(|(k, _)| k.as_str()))
                .collect()
        })
        .unwrap_or_default()
}
