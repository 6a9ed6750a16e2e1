// Package sql is the front end of Eddy's Kinesis Data Analytics SQL: a
// hand-written lexer and recursive-descent parser (Pratt precedence for
// expressions) for the KDA dialect, producing the AST of ast.go.
//
// The dialect: CREATE [OR REPLACE] STREAM with typed columns and
// DESCRIPTION; CREATE [OR REPLACE] PUMP … AS INSERT [EXPEDITED] INTO s
// [(cols)] SELECT STREAM …; SELECT [STREAM] [DISTINCT] with FROM streams,
// subqueries with column aliases (AS l(r)), TABLE(f(CURSOR(…))) and INNER,
// LEFT, RIGHT, FULL and CROSS joins with OVER windows on either side;
// WHERE, GROUP BY, WINDOWED BY STAGGER(PARTITION BY … RANGE INTERVAL …),
// HAVING, WINDOW name AS (…), ORDER BY and UNION ALL. Expressions:
// arithmetic, ||, comparisons, AND/OR/NOT, [NOT] LIKE, SIMILAR TO, IS [NOT]
// NULL/TRUE/FALSE/UNKNOWN, IS [NOT] DISTINCT FROM, BETWEEN, IN, CASE, CAST,
// day-time INTERVAL literals ('n' unit, 'd hh:mm:ss' DAY TO SECOND …), typed
// DATE/TIME/TIMESTAMP literals, U&'…' strings, and the keyword-argument
// functions FLOOR/CEIL(x TO unit), STEP(x BY y), EXTRACT, POSITION,
// SUBSTRING (also SIMILAR), TRIM and OVERLAY; aggregate calls take DISTINCT,
// *, IGNORE/RESPECT NULLS and OVER (inline or named).
//
// Identifiers: unquoted names are upper-cased, "quoted" ones kept as
// written. Errors are *Error values with the 1-based line and column of the
// offending token; the API layer reports them as CodeValidationException.
// The parser never panics on input (fuzzed by FuzzParse) and bounds nesting
// depth.
//
// Format prints an expression canonically; the planner compares canonical
// forms to match select items with GROUP BY keys.
package sql
