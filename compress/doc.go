// Package compress is ATLAS's library-learning engine: a top-down
// synthesiser of abstractions in the style of Stitch (Bowers et al.,
// "Top-Down Synthesis for Library Learning", POPL 2023).
//
// # Terms
//
// Programs are curried lambda-calculus terms in Stitch's text format:
// primitives (any atom), applications "(f a b)" = app(app(f,a),b), "(lam
// body)", de Bruijn variables "$i" and, inside abstraction bodies only,
// abstraction arguments "#i". Terms are hash-consed in a Store, so equal
// subtrees share one id and a corpus is a DAG.
//
// # Cost and utility
//
// The cost model is Stitch's default (DreamCoder's): 100 per primitive or
// variable, 1 per application or lambda; primitives may be priced
// individually. A use of an abstraction costs one primitive applied to its
// arguments. The utility of an abstraction is the cost it removes from the
// corpus (counting, per match location, the saving of one use where it is
// positive, times the location's number of occurrences, less the inner
// locations a self-overlapping use blocks) minus the cost of its own body.
//
// # Search
//
// Each iteration searches for the single abstraction of highest utility by
// depth-first branch and bound over partial abstractions with holes. A
// partial abstraction carries its match locations (DAG nodes) and, per
// hole, the corpus subtree under the hole at each location; a hole expands
// into each distinct head found there (primitive, variable, application,
// lambda), into an argument already used (where the argument subtrees are
// equal), or into a new argument (up to the arity limit). The admissible
// bound is the sum over locations of occurrences*(cost-100) minus the body
// cost so far. Expansions are pruned when they would leave a free variable
// in the body, when an argument would capture a variable bound by a lambda
// of the abstraction (such locations are dropped), when they match a single
// subtree or a single program, when an argument is the same closed term
// everywhere, and when two arguments are equal everywhere (redundant
// arguments are forced into one). The search is seeded with the best
// abstraction without arguments. With Options.Workers > 1 the subtrees of
// the search are handed to idle goroutines that share the cutoff. Pruning
// is strict, so every candidate tied with the best is found; ties go to the
// exact description length after an optimal rewrite, then to the larger
// body, then to the smaller body text. The answer therefore never depends on
// traversal order, scheduling, node ids, shards or workers.
//
// After a pick, every program is rewritten by dynamic programming over its
// DAG, choosing at each node the cheaper of leaving it or using the
// abstraction (whose arguments are rewritten recursively), which gives an
// optimal non-overlapping set of uses. Later abstractions may use earlier
// ones. A previous library can be applied first (Options.Library) and then
// extended, and Rewrite applies a library to programs it never saw.
// Inline expands uses back into the original programs.
//
// # Sharding and the map/reduce protocol
//
// The corpus is split into contiguous shards (Options.Shards) processed by
// errgroup workers (Options.Workers). One iteration is:
//
//  1. map: each shard, holding its programs already rewritten with the
//     library so far, emits a Summary: the distinct subtrees of its
//     programs as a child-first DAG with occurrence counts and owning
//     program (global index, or -1 when several programs contain it);
//  2. reduce: MergeSummaries interns all shards' DAGs into one store,
//     adding counts, and Search finds the best abstraction on it;
//  3. broadcast: every shard applies the abstraction (Shard.Apply).
//
// Summaries serialise as JSON (WriteSummary, ReadSummary), so the map side
// may run in separate processes that exchange files: a driver sends the
// library learned so far to each shard process, collects their summary
// files, runs the reducer and repeats. Because the merged DAG and counts are
// the same for any sharding, and every choice in the search depends only on
// structure and counts, the library and rewritten corpus are identical for
// any number of shards or workers. The command line drives the same protocol
// with "atlas-learn compress map" (one shard: apply the library so far,
// write the summary) and "atlas-learn compress reduce" (merge summaries,
// learn one abstraction, write the extended library and "done": true when
// nothing more is worth learning).
//
// # Command line
//
//	atlas-learn compress --format stitch|python --iterations N --max-arity A
//	    [--workers W] [--shards S] [--library PREVIOUS.json] [--holdout 0.2 --seed S]
//	    [--cost-prim NAME=COST,...] --out RESULT.json INPUT...
//
// and, for Python, [--unit file|function] [--no-inline] [--cost-grammar C]
// [--verify-with TEST.py] [--corpus-out CORPUS.json]: see package pyfront
// (EncodeUnits, Admissible, SharedHelpers, RenderProgram) for the
// normalisation, the admission of concepts and the printing, and
// Options.Admit and Options.ArgsInOrder for the engine's hooks. It
// writes original_cost, final_cost, compression_ratio, elapsed_ms,
// peak_rss_bytes, abstractions (name, body, arity, utility, uses,
// compression_ratio, ...), rewritten and, with --holdout,
// holdout_compression_ratio. "atlas-learn bench compress --data DIR" runs
// this engine and Stitch side by side on the cogsci corpora.
package compress
