//! The model dependency graph, built from `ref()`.

use std::collections::{HashMap, VecDeque};

/// A directed graph of models: an edge `a → b` means `b` refs `a`.
#[derive(Debug, Clone, Default)]
pub struct Dag {
    names: Vec<String>,
    index: HashMap<String, usize>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl Dag {
    /// Builds the graph. `deps(name)` lists the models `name` refs; unknown
    /// names are ignored (they are relations of the catalog, not models).
    pub fn new<'a>(
        names: impl IntoIterator<Item = &'a str>,
        deps: impl Fn(&str) -> Vec<String>,
    ) -> Dag {
        let names: Vec<String> = names.into_iter().map(str::to_string).collect();
        let index: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_lowercase(), i))
            .collect();
        let mut parents = vec![Vec::new(); names.len()];
        let mut children = vec![Vec::new(); names.len()];
        for (i, name) in names.iter().enumerate() {
            for dep in deps(name) {
                if let Some(&p) = index.get(&dep.to_lowercase())
                    && !parents[i].contains(&p)
                {
                    parents[i].push(p);
                    children[p].push(i);
                }
            }
        }
        Dag {
            names,
            index,
            parents,
            children,
        }
    }

    /// Every model name, in insertion order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The models `name` refs directly.
    pub fn parents(&self, name: &str) -> Vec<&str> {
        self.id(name)
            .map(|i| {
                self.parents[i]
                    .iter()
                    .map(|&p| self.names[p].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The models that ref `name` directly.
    pub fn children(&self, name: &str) -> Vec<&str> {
        self.id(name)
            .map(|i| {
                self.children[i]
                    .iter()
                    .map(|&c| self.names[c].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn id(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_lowercase()).copied()
    }

    /// Models in dependency order (parents first; ties in insertion order),
    /// or the first cycle found, as a closed path `[a, b, a]`.
    pub fn topological_order(&self) -> Result<Vec<&str>, Vec<String>> {
        let n = self.names.len();
        let mut indegree: Vec<usize> = self.parents.iter().map(Vec::len).collect();
        let mut ready: VecDeque<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_front() {
            order.push(self.names[i].as_str());
            for &c in &self.children[i] {
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    ready.push_back(c);
                }
            }
        }
        if order.len() == n {
            Ok(order)
        } else {
            Err(self.find_cycle(&indegree))
        }
    }

    /// Groups models into levels: every model's parents are in earlier
    /// levels. Models on a cycle are put in a final level.
    pub fn levels(&self) -> Vec<Vec<&str>> {
        let n = self.names.len();
        let mut level = vec![0usize; n];
        let mut indegree: Vec<usize> = self.parents.iter().map(Vec::len).collect();
        let mut ready: VecDeque<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut seen = vec![false; n];
        while let Some(i) = ready.pop_front() {
            seen[i] = true;
            for &c in &self.children[i] {
                level[c] = level[c].max(level[i] + 1);
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    ready.push_back(c);
                }
            }
        }
        let max = level.iter().copied().max().unwrap_or(0);
        let mut out: Vec<Vec<&str>> = vec![Vec::new(); max + 2];
        for i in 0..n {
            let l = if seen[i] { level[i] } else { max + 1 };
            out[l].push(self.names[i].as_str());
        }
        out.retain(|l| !l.is_empty());
        out
    }

    fn find_cycle(&self, indegree: &[usize]) -> Vec<String> {
        // Walk parents from a node left with edges until a node repeats.
        let Some(start) = (0..self.names.len()).find(|&i| indegree[i] > 0) else {
            return Vec::new();
        };
        let mut path = vec![start];
        let mut pos: HashMap<usize, usize> = HashMap::from([(start, 0)]);
        let mut cur = start;
        loop {
            let next = self.parents[cur]
                .iter()
                .copied()
                .find(|&p| indegree[p] > 0)
                .expect("a node left on a cycle has a parent on it");
            if let Some(&at) = pos.get(&next) {
                let mut cycle: Vec<String> = path[at..]
                    .iter()
                    .rev()
                    .map(|&i| self.names[i].clone())
                    .collect();
                cycle.insert(0, self.names[next].clone());
                cycle.dedup();
                let first = cycle[0].clone();
                if cycle.last() != Some(&first) {
                    cycle.push(first);
                }
                return cycle;
            }
            pos.insert(next, path.len());
            path.push(next);
            cur = next;
        }
    }

    /// `name` and every model upstream of it (up to `depth` steps; `None` = all).
    pub fn ancestors(&self, name: &str, depth: Option<usize>) -> Vec<&str> {
        self.walk(name, depth, |i| &self.parents[i])
    }

    /// `name` and every model downstream of it (up to `depth` steps).
    pub fn descendants(&self, name: &str, depth: Option<usize>) -> Vec<&str> {
        self.walk(name, depth, |i| &self.children[i])
    }

    fn walk<'a>(
        &'a self,
        name: &str,
        depth: Option<usize>,
        next: impl Fn(usize) -> &'a Vec<usize>,
    ) -> Vec<&'a str> {
        let Some(start) = self.id(name) else {
            return Vec::new();
        };
        let mut seen = vec![false; self.names.len()];
        let mut queue = VecDeque::from([(start, 0usize)]);
        let mut out = Vec::new();
        seen[start] = true;
        while let Some((i, d)) = queue.pop_front() {
            out.push(self.names[i].as_str());
            if depth.is_some_and(|max| d >= max) {
                continue;
            }
            for &j in next(i) {
                if !seen[j] {
                    seen[j] = true;
                    queue.push_back((j, d + 1));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dag(edges: &[(&str, &[&str])]) -> Dag {
        let map: HashMap<String, Vec<String>> = edges
            .iter()
            .map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()))
            .collect();
        Dag::new(edges.iter().map(|(n, _)| *n), |n| map[n].clone())
    }

    #[test]
    fn orders_parents_first() {
        let d = dag(&[
            ("c", &["b"]),
            ("b", &["a"]),
            ("a", &[]),
            ("x", &["nexus_entities"]),
        ]);
        assert_eq!(d.topological_order().unwrap(), vec!["a", "x", "b", "c"]);
        assert_eq!(d.levels(), vec![vec!["a", "x"], vec!["b"], vec!["c"]]);
        assert_eq!(d.ancestors("c", None), vec!["c", "b", "a"]);
        assert_eq!(d.ancestors("c", Some(1)), vec!["c", "b"]);
        assert_eq!(d.descendants("a", None), vec!["a", "b", "c"]);
    }

    #[test]
    fn reports_the_whole_cycle() {
        let d = dag(&[("a", &["c"]), ("b", &["a"]), ("c", &["b"]), ("d", &["a"])]);
        let cycle = d.topological_order().unwrap_err();
        assert_eq!(cycle.len(), 4, "{cycle:?}");
        assert_eq!(cycle.first(), cycle.last());
        for n in ["a", "b", "c"] {
            assert!(cycle.contains(&n.to_string()));
        }
    }
}
