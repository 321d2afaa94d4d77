//! Tests of the PHP configuration reader: what real files hold, the errors and their lines, the
//! bounds (depth, size, time) and evaluation.

use super::*;

fn s(v: &str) -> PhpValue {
    PhpValue::Str(v.into())
}

fn cfg(src: &str) -> PhpValue {
    match parse_config(src) {
        Ok(v) => v,
        Err(e) => panic!("parse failed: {e}"),
    }
}

fn value(expr: &str) -> PhpValue {
    let v = cfg(&format!("<?php\nreturn array('v' => {expr});\n"));
    v.get("v").cloned().unwrap_or_else(|| panic!("no value in {v}"))
}

fn error(src: &str) -> PhpError {
    match parse_config(src) {
        Ok(v) => panic!("expected an error, parsed {v}"),
        Err(e) => e,
    }
}

const SEI_CLASS: &str = r#"<?
class ConfiguracaoSEI extends InfraConfiguracao  {

 	private static $instance = null;

 	public static function getInstance(){
 	  if (ConfiguracaoSEI::$instance == null) {
 	    ConfiguracaoSEI::$instance = new ConfiguracaoSEI();
 	  }
 	  return ConfiguracaoSEI::$instance;
 	}

 	public function getArrConfiguracoes(){
 	  return array(
 	      'SEI' => array(
 	          'URL' => 'http://sei.exemplo.gov.br/sei',
 	          'Producao' => true,
 	          'RepositorioArquivos' => '/var/sei/arquivos',
 	          'Modulos' => array('PENIntegracao' => 'pen', 'ProtocoloIntegradoIntegracao' => 'protocolo-integrado')),

 	      'PaginaSEI' => array(
 	          'NomeSistema' => 'SEI',
 	          'NomeSistemaComplemento' => SEI_VERSAO,
 	          'LogoMenu' => ''),

 	      'BancoSEI'  => array(
 	          'Servidor' => 'db.exemplo.gov.br',
 	          'Porta' => '3306',
 	          'Banco' => 'sei',
 	          'Usuario' => 'sei_user',
 	          'Senha' => 'S3nh4-Banco-Test!',
 	          'Tipo' => 'MySql'), //MySql, SqlServer ou Oracle
 	  );
 	}
}
?>
"#;

#[test]
fn reads_the_array_returned_by_get_arr_configuracoes() {
    let v = cfg(SEI_CLASS);
    assert_eq!(v.keys(), ["SEI", "PaginaSEI", "BancoSEI"]);
    assert_eq!(v.get_path(&["SEI", "Producao"]).and_then(PhpValue::as_bool), Some(true));
    assert_eq!(
        v.get_path(&["SEI", "Modulos"]).map(PhpValue::keys).unwrap_or_default(),
        ["PENIntegracao", "ProtocoloIntegradoIntegracao"]
    );
    assert_eq!(v.get_path(&["BancoSEI", "Porta"]).and_then(PhpValue::as_i64), Some(3306));
    assert_eq!(v.get_path(&["BancoSEI", "Senha"]).and_then(PhpValue::as_str), Some("S3nh4-Banco-Test!"));
    assert_eq!(v.get_path(&["PaginaSEI", "NomeSistemaComplemento"]), Some(&PhpValue::Const("SEI_VERSAO".into())));
    assert_eq!(v.get_path(&["SEI", "Nada"]), None);
    assert_eq!(v.get_path(&["SEI", "URL", "x"]), None);
}

#[test]
fn method_name_is_case_insensitive_and_may_return_a_variable() {
    let src = "<?php class C { function GETARRCONFIGURACOES(): array {\n $a = ['x' => 1];\n if (true) { $b = 2; }\n return $a; } }";
    assert_eq!(cfg(src), PhpValue::Array(vec![(PhpKey::Str("x".into()), PhpValue::Int(1))]));
}

#[test]
fn top_level_return_and_assignment() {
    assert_eq!(cfg("<?php return ['a' => 1];").get("a"), Some(&PhpValue::Int(1)));
    assert_eq!(cfg("<?php\n$cfg = array('a' => 2);\n$outra = ['b' => 3];").get("a"), Some(&PhpValue::Int(2)));
    assert_eq!(cfg("<?php $c = ['a' => 4]; return $c;").get("a"), Some(&PhpValue::Int(4)));
    // Assignments that are not arrays are ignored.
    assert_eq!(cfg("<?php $x = 1; $c = ['a' => 5];").get("a"), Some(&PhpValue::Int(5)));
}

#[test]
fn short_arrays_trailing_commas_and_implicit_keys() {
    let v = value("['a', 'b', 5 => 'c', 'd', 'k' => ['x',], '7' => 'e', 'f',]");
    assert_eq!(v.keys(), ["0", "1", "5", "6", "k", "7", "8"]);
    assert_eq!(v.get("6"), Some(&s("d")));
    assert_eq!(v.get("7"), Some(&s("e")));
    assert_eq!(v.entries()[4].0, PhpKey::Str("k".into()));
    assert_eq!(v.get("k").map(PhpValue::keys).unwrap_or_default(), ["0"]);
    assert_eq!(value("array()"), PhpValue::Array(vec![]));
    assert_eq!(value("[]"), PhpValue::Array(vec![]));
}

#[test]
fn repeated_keys_keep_the_last_value_in_the_first_position() {
    let v = value("array('a' => 1, 'b' => 2, 'a' => 3, true => 'x', 1 => 'y', '01' => 'z')");
    assert_eq!(v.keys(), ["a", "b", "1", "01"]);
    assert_eq!(v.get("a"), Some(&PhpValue::Int(3)));
    assert_eq!(v.get("1"), Some(&s("y")));
    assert_eq!(v.get("01"), Some(&s("z")));
}

#[test]
fn single_quoted_strings_know_two_escapes() {
    assert_eq!(value(r"'it\'s \\ \n $x'"), s(r"it's \ \n $x"));
    assert_eq!(value("'two\nlines'"), s("two\nlines"));
}

#[test]
fn double_quoted_strings_know_the_usual_escapes() {
    assert_eq!(value(r#""a\tb\n\"q\" \\ \$x \101\x41\u{e7} \d""#), s("a\tb\n\"q\" \\ $x AA\u{e7} \\d"));
    // Interpolation stays as text, quotes inside `{$…}` included.
    assert_eq!(value(r#""$base/x {$arr["k"]} ${y}""#), s(r#"$base/x {$arr["k"]} ${y}"#));
}

#[test]
fn heredoc_and_nowdoc() {
    let v = value("<<<EOT\n  a\\tb\n    c $x\n  EOT\n");
    assert_eq!(v, s("a\tb\n  c $x"));
    let v = value("<<<'EOT'\nraw\\t\nEOT");
    assert_eq!(v, s("raw\\t"));
}

#[test]
fn concatenation() {
    assert_eq!(value("'a' . \"b\" . 'c'"), s("abc"));
    assert_eq!(value("'porta ' . 4730 . ' ' . 1.5 . true . null"), s("porta 4730 1.51"));
    assert_eq!(
        value("__DIR__ . '/mod-pen/' . 'cert.pem'"),
        PhpValue::Concat(vec![PhpValue::Const("__DIR__".into()), s("/mod-pen/cert.pem")])
    );
    assert_eq!(value("'a' . PHP_EOL").to_string(), "'a' . PHP_EOL");
    assert_eq!(
        value("getenv('HOST').'/sei'"),
        PhpValue::Concat(vec![PhpValue::Call("getenv".into(), vec![s("HOST")]), s("/sei")])
    );
}

#[test]
fn keywords_in_any_case() {
    assert_eq!(value("TRUE"), PhpValue::Bool(true));
    assert_eq!(value("False"), PhpValue::Bool(false));
    assert_eq!(value("NULL"), PhpValue::Null);
    assert_eq!(value("\\true"), PhpValue::Bool(true));
    assert_eq!(value("ARRAY('x')").keys(), ["0"]);
}

#[test]
fn numbers() {
    assert_eq!(value("4730"), PhpValue::Int(4730));
    assert_eq!(value("-15"), PhpValue::Int(-15));
    assert_eq!(value("- 2.5"), PhpValue::Float(-2.5));
    assert_eq!(value("0x1F"), PhpValue::Int(31));
    assert_eq!(value("0755"), PhpValue::Int(493));
    assert_eq!(value("0o17"), PhpValue::Int(15));
    assert_eq!(value("0b101"), PhpValue::Int(5));
    assert_eq!(value("1_000_000"), PhpValue::Int(1_000_000));
    assert_eq!(value("1e3"), PhpValue::Float(1000.0));
    assert_eq!(value(".5"), PhpValue::Float(0.5));
    assert_eq!(value("9223372036854775808"), PhpValue::Float(9223372036854775808.0));
    assert_eq!(value("60 * 60"), PhpValue::Int(3600));
    assert_eq!(value("7 / 2"), PhpValue::Float(3.5));
    assert_eq!(value("2 ** 10"), PhpValue::Int(1024));
    assert_eq!(value("(1 + 2) * 3"), PhpValue::Int(9));
    assert_eq!(value("-9223372036854775807 - 1"), PhpValue::Int(i64::MIN));
    assert!(matches!(value("1 / 0"), PhpValue::Expr(_)));
}

#[test]
fn constants_are_kept_by_name() {
    assert_eq!(value("InfraConfiguracao::X"), PhpValue::Const("InfraConfiguracao::X".into()));
    assert_eq!(value("InfraMail::$TIPO"), PhpValue::Const("InfraMail::$TIPO".into()));
    assert_eq!(value("PHP_EOL"), PhpValue::Const("PHP_EOL".into()));
    assert_eq!(value("__DIR__"), PhpValue::Const("__DIR__".into()));
    assert_eq!(value("\\Foo\\BAR"), PhpValue::Const("\\Foo\\BAR".into()));
    assert_eq!(value("-X").to_string(), "-X");
}

#[test]
fn calls_fallbacks_and_other_expressions() {
    let v = value("getenv('PI_URL') ?: getenv('MODULO_PI_URL')");
    assert_eq!(
        v,
        PhpValue::Fallback {
            value: Box::new(PhpValue::Call("getenv".into(), vec![s("PI_URL")])),
            default: Box::new(PhpValue::Call("getenv".into(), vec![s("MODULO_PI_URL")])),
            elvis: true,
        }
    );
    assert_eq!(value("'' ?: 'b'"), s("b"));
    assert_eq!(value("null ?? 'b'"), s("b"));
    assert_eq!(value("X ?? 'b'").to_string(), "X ?? 'b'");
    assert_eq!(value("dirname(__FILE__) . '/c.pem'").to_string(), "dirname(__FILE__) . '/c.pem'");
    assert_eq!(value("Cls::metodo(1, 'a')"), PhpValue::Call("Cls::metodo".into(), vec![PhpValue::Int(1), s("a")]));
    assert_eq!(value("getenv('A') == 'true' ? true : false").to_string(), "getenv('A') == 'true' ? true : false");
    assert_eq!(value("true ? 'a' : 'b'"), s("a"));
    assert_eq!(value("$x['k']").to_string(), "$x['k']");
    assert_eq!(value("['a' => 1]['a']"), PhpValue::Int(1));
    assert_eq!(value("@getenv('A')").to_string(), "getenv('A')");
}

#[test]
fn casts() {
    assert_eq!(value("(int) '3306'"), PhpValue::Int(3306));
    assert_eq!(value("( int )'12abc'"), PhpValue::Int(12));
    assert_eq!(value("(bool) 1"), PhpValue::Bool(true));
    assert_eq!(value("(boolean)'0'"), PhpValue::Bool(false));
    assert_eq!(value("(string) 4730"), s("4730"));
    assert_eq!(value("(float) '1.5'"), PhpValue::Float(1.5));
    assert_eq!(value("(array) 'x'").keys(), ["0"]);
    assert_eq!(value("(int) getenv('P')").to_string(), "(int)getenv('P')");
}

#[test]
fn comments_and_tags() {
    let src = "<html>\n<?php # hash\n// slashes\n/* block\n 'x' => 1 */\nreturn [ // after\n  'a' => 1, # after\n  /* mid */ 'b' => 2,\n];\n?>\ntrailing html";
    assert_eq!(cfg(src).keys(), ["a", "b"]);
    // A `//` comment ends at `?>`, as in PHP.
    assert_eq!(cfg("<?php $c = ['a' => 1]; // fim ?>\n<p>html</p>").keys(), ["a"]);
    // Short open tag and a BOM.
    assert_eq!(cfg(&decode(b"\xef\xbb\xbf<? return ['a'=>1];")).keys(), ["a"]);
}

#[test]
fn crlf_lines_and_reopened_tags() {
    let src = "<?php\r\n// a\r\n?>\r\n<p>html {x}</p>\r\n<?php\r\nreturn [\r\n  'a' => 'x\r\ny',\r\n  'b' =>\r\n";
    let e = error(src);
    assert_eq!(e.line, 9, "{e}");
    let ok = src.to_string() + "  2,\r\n];\r\n";
    assert_eq!(cfg(&ok).get("a"), Some(&s("x\r\ny")));
    assert_eq!(cfg(&ok).get("b"), Some(&PhpValue::Int(2)));
}

#[test]
fn latin1_files() {
    let bytes = b"<?php\n// Configura\xe7\xe3o\nreturn array('Orgao' => 'Funda\xe7\xe3o', 'n' => 1);\n";
    let text = decode(bytes);
    assert!(text.contains("Configuração"));
    assert_eq!(cfg(&text).get("Orgao"), Some(&s("Fundação")));
    assert_eq!(decode("já é UTF-8".as_bytes()), "já é UTF-8");
}

#[test]
fn php_truthiness_and_integers() {
    for (v, b) in [
        ("true", true),
        ("1", true),
        ("'1'", true),
        ("'true'", true),
        ("'0'", false),
        ("''", false),
        ("0", false),
        ("null", false),
        ("[]", false),
        ("'false'", true),
    ] {
        assert_eq!(value(v).as_bool(), Some(b), "{v}");
    }
    assert_eq!(value("X").as_bool(), None);
    assert_eq!(value("' 4730 '").as_i64(), Some(4730));
    assert_eq!(value("'abc'").as_i64(), None);
    assert_eq!(value("2.0").as_i64(), Some(2));
}

#[test]
fn resolve_evaluates_what_lookup_knows() {
    let v = value("getenv('A') ?: getenv('B') . '/x'");
    let env = |v: &PhpValue| match v {
        PhpValue::Call(n, args) if n == "getenv" => match args.first().and_then(PhpValue::as_str) {
            Some("A") => Some(PhpValue::Bool(false)),
            Some("B") => Some(s("/base")),
            _ => None,
        },
        _ => None,
    };
    assert_eq!(v.resolve(&env), s("/base/x"));
    assert_eq!(value("getenv('C') ?? 'd'").resolve(&env).to_string(), "getenv('C') ?? 'd'");
    assert_eq!(
        value("[X . 'y']").resolve(&|v| (*v == PhpValue::Const("X".into())).then(|| s("x"))).get("0"),
        Some(&s("xy"))
    );
}

#[test]
fn find_define_forms() {
    let src = "<?php\n// Identifica\u{e7}\u{e3}o\ndefine(\"VERSAO_MODULO_PEN\", \"3.6.1\");\nclass PENIntegracao extends SeiIntegracao {\n  const VERSAO_MODULO = VERSAO_MODULO_PEN;\n  const int N = 4;\n  public function x() { return $this->define('VERSAO_MODULO_PI', 'no'); }\n}\ndefine('VERSAO_MODULO_PI','1.2.3');\n";
    assert_eq!(find_define(src, "VERSAO_MODULO_PEN").as_deref(), Some("3.6.1"));
    assert_eq!(find_define(src, "VERSAO_MODULO").as_deref(), Some("3.6.1"));
    assert_eq!(find_define(src, "VERSAO_MODULO_PI").as_deref(), Some("1.2.3"));
    assert_eq!(find_define(src, "N").as_deref(), Some("4"));
    assert_eq!(find_define(src, "NADA"), None);
    assert_eq!(find_define("<?php const A = B; const B = A;", "A"), None);
    assert_eq!(
        find_define("<?php class X { const VERSAO_MODULO = \"2.1.6\"; }", "VERSAO_MODULO").as_deref(),
        Some("2.1.6")
    );
    // An error after the definition does not hide it.
    assert_eq!(find_define("<?php define('V', '1'); 'unterminated", "V").as_deref(), Some("1"));
    assert_eq!(find_define("\0\0", "V"), None);
}

#[test]
fn truncated_file_reports_the_last_line() {
    let e = error(
        "<?php\nreturn array(\n  'SEI' => array(\n    'Producao' => true,\n    'Modulos' => array('PENIntegracao' =>",
    );
    assert_eq!(e.line, 5);
    assert!(e.problem.to_string().contains("end of file"), "{e}");
    let e = error("<?php\nreturn array(\n  'a' => 1,\n\n");
    assert_eq!(e.line, 3);
    assert!(e.problem.to_string().contains("opened at line 2"), "{e}");
    let e = error(&SEI_CLASS[..SEI_CLASS.find("'Porta'").unwrap_or(0)]);
    assert!(e.problem.to_string().contains("end of file"), "{e}");
}

#[test]
fn unterminated_string_reports_where_it_starts() {
    let e = error("<?php\nreturn [\n 'Senha' => 'S3nh4-Leak,\n];\n");
    assert_eq!(e.line, 3);
    assert!(e.problem.to_string().contains("unterminated string"), "{e}");
    assert!(!e.to_string().contains("S3nh4"), "{e}");
    // The quote opening the next key closes the string: the error is on that line.
    let e = error("<?php\nreturn [\n 'Senha' => 'S3nh4-Leak,\n 'b' => 1,\n];\n");
    assert_eq!(e.line, 4);
    assert!(!e.to_string().contains("S3nh4"), "{e}");
    assert_eq!(error("<?php\n/* aberto\n\n").line, 2);
    assert_eq!(error("<?php return [\"a\n\n").line, 1);
}

#[test]
fn binary_garbage() {
    let e = error("<?php\nreturn [\n\0\x01\x02garbage");
    assert_eq!(e.line, 3);
    let e = error(&decode(b"\x7fELF\x02\x01\x01\xff\xfe"));
    assert_eq!(e.line, 1);
    let e = error(&decode(b"<?php\n\n return \x01;"));
    assert_eq!(e.line, 3);
    assert!(e.problem.to_string().contains("control character"), "{e}");
    assert_eq!(error("just text, no php").line, 1);
    assert_eq!(error("").line, 1);
}

#[test]
fn unknown_constructs_give_their_line() {
    let e = error("<?php\nreturn [\n  'a' => 1,\n  'b' => new Foo(),\n];");
    assert_eq!((e.line, e.problem.to_string().contains("`new`")), (4, true), "{e}");
    let e = error("<?php\nreturn [\n  'a' => 1\n  'b' => 2,\n];");
    assert_eq!(e.line, 4);
    assert!(e.problem.to_string().contains("expected `,` or `]`"), "{e}");
    assert!(!e.problem.to_string().contains('b'.to_string().as_str()) || !e.problem.to_string().contains("'b'"), "{e}");
    let e = error("<?php\nreturn [\n  'a' => function() { return 1; },\n];");
    assert_eq!(e.line, 3);
    let e = error("<?php\n\nreturn [\n 'a' => ;\n];");
    assert_eq!(e.line, 4);
    let e = error("<?php\nreturn [[1] => 2];");
    assert_eq!(e.line, 2);
    let e = error("<?php\nreturn 'texto';");
    assert!(e.problem.to_string().contains("not an array"), "{e}");
    let e = error("<?php\nclass C { public function getArrConfiguracoes() { return [1] } }");
    assert_eq!(e.line, 2);
    let e = error("<?php\nclass C { public function outra() { return [1]; } }");
    assert!(e.problem.to_string().contains("no configuration array"), "{e}");
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let src = format!("<?php\nreturn\n{}\n{};", "[\n".repeat(1000), "]".repeat(1000));
    let e = error(&src);
    assert_eq!(e.line, 3 + MAX_DEPTH);
    assert!(e.problem.to_string().contains("nesting"), "{e}");
    let ok = format!("<?php return {}{};", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse_config(&ok).is_ok());
    for unit in ["(", "-", "!", "(int)", "X ?? "] {
        let src = format!("<?php return ['a' => {}1];", unit.repeat(100_000));
        assert!(parse_config(&src).is_err(), "{unit}");
    }
}

#[test]
fn large_inputs_are_linear() {
    // Large but within the bounds: 20 000 entries, and flat chains of one operator.
    let mut src = String::from("<?php return [\n");
    for i in 0..20_000 {
        src.push_str(&format!("'k{i}' => 'v' . {i} . X,\n"));
    }
    src.push_str("];");
    let v = cfg(&src);
    assert_eq!(v.entries().len(), 20_000);
    assert_eq!(v.get("k19999").map(ToString::to_string).as_deref(), Some("'v19999' . X"));
    let chain = format!("<?php return ['a' => 1{}];", " && X".repeat(45_000));
    assert!(parse_config(&chain).is_ok());
    let concat = format!("<?php return ['a' => 'x'{}];", " . 'y'".repeat(90_000));
    assert_eq!(cfg(&concat).get("a").and_then(PhpValue::as_str).map(str::len), Some(90_001));
}

#[test]
fn size_and_value_bounds() {
    let big = format!("<?php return ['a' => '{}'];", "x".repeat(MAX_SOURCE_BYTES));
    let e = error(&big);
    assert_eq!(e.line, 1);
    assert!(e.problem.to_string().contains("larger than the 4 MiB"), "{e}");
    assert!(!e.problem.to_string().contains("xxx"), "{e}");
    assert_eq!(find_define(&format!("<?php define('V', '1'); // {big}"), "V"), None);
    // More values than a configuration can have: refused at the line where the bound is crossed.
    let mut src = String::from("<?php\nreturn [\n");
    for _ in 0..MAX_VALUES / 4 + 1 {
        src.push_str("0, 0, 0, 0,\n");
    }
    src.push_str("];");
    let e = error(&src);
    assert!(e.problem.to_string().contains("values"), "{e}");
    assert_eq!(e.line, 2 + MAX_VALUES / 4);
}

/// A ConfiguracaoSEI.php whose `Producao` is `X ?: X ?: … true` with `links` links, on line 5.
fn elvis_chain_config(links: usize) -> String {
    format!(
        "<?php\nclass ConfiguracaoSEI {{\n function getArrConfiguracoes() {{\n  return array('SEI' => array(\n   'Producao' => {}true,\n   'Modulos' => array()));\n }}\n}}\n",
        "X ?: ".repeat(links)
    )
}

#[test]
fn chains_of_unknown_values_stop_at_the_depth_bound_with_their_line() {
    // ~150 KB: 30 000 links of `?:`, the defect that overflowed the stack.
    let src = elvis_chain_config(30_000);
    let e = error(&src);
    assert_eq!(e.line, 5, "{e}");
    assert!(e.problem.to_string().contains("nesting deeper than 64 levels"), "{e}");
    // A short chain is a configuration like any other.
    let v = cfg(&elvis_chain_config(3));
    assert_eq!(v.get_path(&["SEI", "Producao"]).map(ToString::to_string).as_deref(), Some("X ?: X ?: X ?: true"));

    let secret_line = "  'SenhaCertificado' => 'S3nh4-Deep' . ";
    for (unit, name) in [
        ("$a ? 1 : ", "ternary"),
        ("X ?? ", "coalesce"),
        ("(", "parentheses"),
        ("('x' . ", "concatenation in parentheses"),
        ("- ", "minus"),
        ("!", "not"),
        ("[", "arrays"),
        ("(int)", "cast"),
        ("getenv(", "call"),
    ] {
        let src = format!("<?php\nreturn ['PEN' => [\n{secret_line}{}1\n]];", unit.repeat(200_000));
        let e = error(&src);
        assert_eq!(e.line, 3, "{name}: {e}");
        assert!(e.problem.to_string().contains("nesting"), "{name}: {e}");
        assert!(!e.to_string().contains("S3nh4"), "{name}: {e}");
    }
    // Postfix chains of a variable: 3.9 MB of `[0]` or `->b`.
    for unit in ["[0]", "->b", "?->b", "->b()"] {
        let mut src = String::from("<?php\nreturn [\n'WebService' => $a");
        while src.len() + unit.len() < 3_900_000 {
            src.push_str(unit);
        }
        src.push_str("];");
        let e = error(&src);
        assert_eq!(e.line, 3, "{unit}: {e}");
        assert!(e.problem.to_string().contains("nesting"), "{unit}: {e}");
    }
    // 1.8 MB of `'URL' => $a ? 1 : ` in one array: refused at the bound, quickly.
    let src = format!("<?php\nreturn ['SEI' => [\n'URL' => {}1]];", "$a ? 1 : ".repeat(200_000));
    assert_eq!(error(&src).line, 3);
}

/// Depth of a value tree, measured without recursion.
fn tree_depth(v: &PhpValue) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        let children: Vec<&PhpValue> = match v {
            PhpValue::Array(e) => e.iter().map(|(_, v)| v).collect(),
            PhpValue::Concat(p) | PhpValue::Call(_, p) => p.iter().collect(),
            PhpValue::Fallback { value, default, .. } => vec![value, default],
            PhpValue::Expr(e) => match &**e {
                Expr::Unary(_, v) | Expr::Cast(_, v) => vec![v],
                Expr::Chain(f, r) => std::iter::once(f).chain(r.iter().map(|(_, v)| v)).collect(),
                Expr::Ternary(a, b, c) => vec![a, b, c],
                Expr::Var(_) => vec![],
                Expr::Index(b, i) => std::iter::once(b).chain(i.iter()).collect(),
                Expr::Member { object, args, .. } => std::iter::once(object).chain(args.iter().flatten()).collect(),
            },
            _ => vec![],
        };
        stack.extend(children.into_iter().map(|c| (c, d + 1)));
    }
    deepest
}

/// A random expression of nesting about `depth`, from the forms the reader knows.
fn random_expr(rng: &mut crate::mutation::Rng, depth: usize, out: &mut String) {
    const LEAVES: &[&str] = &["X", "1", "'s'", "$a", "getenv('A')", "true", "null", "2.5", "Cls::K"];
    const BINARY: &[&str] =
        &[" . ", " && ", " || ", " == ", " === ", " < ", " + ", " * ", " ** ", " ?? ", " ?: ", " and "];
    if depth == 0 || out.len() > 20_000 {
        out.push_str(LEAVES[rng.below(LEAVES.len())]);
        return;
    }
    match rng.below(9) {
        0 => {
            out.push('(');
            random_expr(rng, depth - 1, out);
            out.push(')');
        }
        1 => {
            out.push_str(["- ", "!", "(int)", "@", "~"][rng.below(5)]);
            random_expr(rng, depth - 1, out);
        }
        2 => {
            random_expr(rng, depth - 1, out);
            out.push_str(" ? ");
            random_expr(rng, depth / 2, out);
            out.push_str(" : ");
            random_expr(rng, depth / 2, out);
        }
        3 => {
            out.push('[');
            random_expr(rng, depth - 1, out);
            out.push_str(", 'k' => ");
            random_expr(rng, depth / 2, out);
            out.push(']');
        }
        4 => {
            out.push_str("f(");
            random_expr(rng, depth - 1, out);
            out.push(')');
        }
        5 => {
            random_expr(rng, depth - 1, out);
            out.push_str(["[0]", "->b", "->c(1)", "['k']"][rng.below(4)]);
        }
        _ => {
            // A run of one or several binary operators.
            random_expr(rng, depth - 1, out);
            for _ in 0..1 + rng.below(4) {
                out.push_str(BINARY[rng.below(BINARY.len())]);
                let d = rng.below(depth);
                random_expr(rng, d, out);
            }
        }
    }
}

#[test]
fn value_trees_stay_shallow_whatever_the_input() {
    let bound = 2 * MAX_DEPTH + 2;
    let mut rng = crate::mutation::Rng::new(0x9e37_79b9_7f4a_7c15);
    let (mut parsed, mut refused) = (0, 0);
    for round in 0..200 {
        let mut expr = String::new();
        random_expr(&mut rng, 10 + round % 180, &mut expr);
        match parse_config(&format!("<?php return ['v' => {expr}];")) {
            Ok(v) => {
                parsed += 1;
                let d = tree_depth(&v);
                assert!(d <= bound, "depth {d} > {bound} for {expr}");
                // Printing, evaluating, cloning and dropping follow the tree: all fine.
                let _ = v.to_string();
                let _ = v.evaluate(&NoScope);
                drop(v.clone());
            }
            Err(e) => {
                refused += 1;
                assert!(
                    e.problem.to_string().contains("nesting") || e.problem.to_string().contains("values"),
                    "{e}: {expr}"
                );
            }
        }
    }
    assert!(parsed > 20 && refused > 20, "parsed {parsed}, refused {refused}");
    // The worst case by construction: unary operators, then links that wrap them.
    for (unary, links) in [(60, 60), (30, 200), (62, 2), (1, 63)] {
        let src = format!("<?php return ['v' => {}X{}];", "-".repeat(unary), " ?: Y".repeat(links));
        if let Ok(v) = parse_config(&src) {
            assert!(tree_depth(&v) <= bound, "{unary}/{links}: {}", tree_depth(&v));
        }
    }
}

#[test]
fn no_panic_on_any_prefix_or_noise() {
    for end in 0..SEI_CLASS.len() {
        if SEI_CLASS.is_char_boundary(end) {
            let _ = parse_config(&SEI_CLASS[..end]);
            let _ = find_define(&SEI_CLASS[..end], "X");
        }
    }
    let mut rng = crate::mutation::Rng::new(0x2545_f491_4f6c_dd1d);
    let alphabet = b"<?php array()[]'\"\\$=>,.;:#/*-+!?{}0123456789xe_abc \n\t\x00\xe7<<<EOT";
    for _ in 0..3000 {
        let mut bytes = b"<?php return [".to_vec();
        for _ in 0..rng.below(64) {
            bytes.push(alphabet[rng.below(alphabet.len())]);
        }
        let text = decode(&bytes);
        let _ = parse_config(&text);
        let _ = find_define(&text, "X");
    }
}

#[test]
fn error_display() {
    let e = PhpError { line: 7, problem: super::Problem::MalformedNumber };
    assert_eq!(e.to_string(), "line 7: malformed number");
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// The environment of a (pretend) php-fpm, and SEI's version as `sei/web/SEI.php` defines it.
struct Fpm(&'static [(&'static str, &'static str)]);

const FPM: &str = "environment of php-fpm (PID 123)";

impl Scope for Fpm {
    fn getenv(&self, name: &str) -> EnvValue {
        match self.0.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => EnvValue::Set { value: v.to_string(), source: FPM.into() },
            None => EnvValue::Unset { source: FPM.into() },
        }
    }

    fn constant(&self, name: &str) -> Option<(PhpValue, String)> {
        (name == "SEI_VERSAO").then(|| (s("4.1.0"), "sei/web/SEI.php".into()))
    }
}

/// The SEI part of the agency's docker ConfiguracaoSEI.php: everything from the environment.
const DOCKER_SEI: &str = "<?\nclass ConfiguracaoSEI extends InfraConfiguracao {\n  public function getArrConfiguracoes() {\n    return array(\n      'SEI' => array(\n        'URL' => getenv('APP_PROTOCOLO').'://'.getenv('APP_HOST').'/sei',\n        'Producao' => (getenv('APP_PROTOCOLO') == 'https' ? true : false),\n        'Modulos' => array('PENIntegracao' => 'pen')),\n      'PaginaSEI' => array('NomeSistemaComplemento' => SEI_VERSAO),\n      'BancoSEI' => array(\n        'Servidor' => getenv('DB_HOST'),\n        'Porta' => getenv('DB_PORTA') ?: '3306',\n        'Senha' => getenv('DB_SEI_PASSWORD')),\n      'Manutencao' => array(\n        'Ativada' => getenv('APP_MANUTENCAO_ATIVA') ?: false,\n        'Usuarios' => getenv('APP_MANUTENCAO_USUARIOS') ? explode(',', getenv('APP_MANUTENCAO_USUARIOS')) : array()),\n    );\n  }\n}\n";

fn docker_value(path: &[&str], scope: &dyn Scope) -> Evaluation {
    cfg(DOCKER_SEI).get_path(path).unwrap_or_else(|| panic!("no {path:?}")).evaluate(scope)
}

#[test]
fn docker_configuration_evaluates_through_the_environment() {
    let env = Fpm(&[("APP_PROTOCOLO", "https"), ("APP_HOST", "sei.orgao.gov.br"), ("DB_SEI_PASSWORD", "S3nh4-Env")]);
    let url = docker_value(&["SEI", "URL"], &env);
    assert_eq!(url.value, s("https://sei.orgao.gov.br/sei"));
    assert_eq!(
        url.sources,
        [
            Source { what: "getenv('APP_PROTOCOLO')".into(), from: FPM.into() },
            Source { what: "getenv('APP_HOST')".into(), from: FPM.into() },
        ]
    );
    assert!(url.unknown.is_empty());
    assert_eq!(docker_value(&["SEI", "Producao"], &env).value, PhpValue::Bool(true));
    let http = Fpm(&[("APP_PROTOCOLO", "http"), ("APP_HOST", "sei.local")]);
    assert_eq!(docker_value(&["SEI", "Producao"], &http).value, PhpValue::Bool(false));
    // A variable not set: PHP's getenv() gives false; the ?: default applies.
    assert_eq!(docker_value(&["BancoSEI", "Porta"], &env).value, s("3306"));
    assert_eq!(docker_value(&["BancoSEI", "Servidor"], &env).value, PhpValue::Bool(false));
    assert_eq!(docker_value(&["Manutencao", "Ativada"], &env).value, PhpValue::Bool(false));
    assert_eq!(docker_value(&["Manutencao", "Usuarios"], &env).value, PhpValue::Array(vec![]));
    // The sources say where, never what: the password is nowhere in them.
    let senha = docker_value(&["BancoSEI", "Senha"], &env);
    assert_eq!(senha.value, s("S3nh4-Env"));
    assert!(!format!("{:?} {:?}", senha.sources, senha.unknown).contains("S3nh4"));
    assert_eq!(docker_value(&["PaginaSEI", "NomeSistemaComplemento"], &env).value, s("4.1.0"));
}

#[test]
fn what_the_scope_does_not_know_stays_unresolved_with_its_names() {
    let url = docker_value(&["SEI", "URL"], &NoScope);
    assert_eq!(url.value.to_string(), "getenv('APP_PROTOCOLO') . '://' . getenv('APP_HOST') . '/sei'");
    assert_eq!(url.unknown, ["getenv('APP_PROTOCOLO')", "getenv('APP_HOST')"]);
    assert!(url.sources.is_empty());
    let producao = docker_value(&["SEI", "Producao"], &NoScope);
    assert_eq!(producao.value.to_string(), "getenv('APP_PROTOCOLO') == 'https' ? true : false");
    assert_eq!(producao.value.as_bool(), None);
    assert_eq!(docker_value(&["PaginaSEI", "NomeSistemaComplemento"], &NoScope).unknown, ["SEI_VERSAO"]);
    // Only one of two variables known: what is known is folded, the rest stays.
    let half = Fpm(&[("APP_PROTOCOLO", "https")]);
    struct Half<'a>(&'a Fpm);
    impl Scope for Half<'_> {
        fn getenv(&self, name: &str) -> EnvValue {
            if name == "APP_HOST" {
                EnvValue::Unknown
            } else {
                self.0.getenv(name)
            }
        }
    }
    let url = docker_value(&["SEI", "URL"], &Half(&half));
    assert_eq!(url.value.to_string(), "'https://' . getenv('APP_HOST') . '/sei'");
    assert_eq!(url.unknown, ["getenv('APP_HOST')"]);
    // A call's arguments are never named: they may be the secret itself.
    let v = value("base64_decode('UzNuaDQ=') . X").evaluate(&NoScope);
    assert_eq!(v.unknown, ["base64_decode()", "X"]);
}

#[test]
fn comparisons_follow_php_8() {
    let truth = |expr: &str| value(expr).as_bool();
    for (expr, want) in [
        ("1 == '1'", true),
        ("'abc' == 0", false),
        ("'1e1' == '10'", true),
        ("' 10' == '10'", true),
        ("'abc' == 'ABC'", false),
        ("null == false", true),
        ("null == ''", true),
        ("null == 0", true),
        ("null == '0'", false),
        ("[] == false", true),
        ("['a' => 1] == ['a' => '1']", true),
        ("['a' => 1] === ['a' => '1']", false),
        ("true == 'x'", true),
        ("1 === 1.0", false),
        ("1 !== 1.0", true),
        ("'1' != 1", false),
        ("'1' <> 2", true),
        ("'10' < '9'", false),
        ("'10' < '9a'", true),
        ("'abc' < 'abd'", true),
        ("2 > 1.5", true),
        ("'2' >= 2", true),
        ("null < 1", true),
        ("1 <= 0", false),
        ("'4.1.0' >= '4.0.12'", true),
    ] {
        assert_eq!(truth(expr), Some(want), "{expr}");
    }
    assert_eq!(value("2 <=> 1"), PhpValue::Int(1));
    assert_eq!(value("'a' <=> 'b'"), PhpValue::Int(-1));
    assert_eq!(value("1.0 <=> 1"), PhpValue::Int(0));
    // Unknown on either side: the comparison stays, with both sides.
    assert_eq!(value("X == 'https'").to_string(), "X == 'https'");
    assert_eq!(value("[1] < [2]").to_string(), "array(0 => 1) < array(0 => 2)");
}

#[test]
fn logic_ternaries_and_parentheses() {
    let env = Fpm(&[("A", "1"), ("E", "")]);
    let eval = |expr: &str| value(expr).evaluate(&env).value;
    assert_eq!(eval("!getenv('A')"), PhpValue::Bool(false));
    assert_eq!(eval("!getenv('NADA')"), PhpValue::Bool(true));
    assert_eq!(eval("getenv('A') && getenv('E')"), PhpValue::Bool(false));
    assert_eq!(eval("getenv('E') || getenv('A')"), PhpValue::Bool(true));
    assert_eq!(eval("getenv('A') and true"), PhpValue::Bool(true));
    assert_eq!(eval("getenv('E') ?: 'padrao'"), s("padrao"));
    assert_eq!(eval("getenv('E') ?? 'padrao'"), s(""));
    assert_eq!(eval("(getenv('A') == 1 ? 'sim' : 'nao') . '!'"), s("sim!"));
    assert_eq!(eval("((((getenv('A')))))"), s("1"));
    assert_eq!(eval("(int) getenv('A') + 1"), PhpValue::Int(2));
    assert_eq!(eval("['1' => 'x'][(int) getenv('A')]"), s("x"));
    // `&&`/`||` decided by one known side, whatever the other.
    assert_eq!(value("false && X"), PhpValue::Bool(false));
    assert_eq!(value("X || 1"), PhpValue::Bool(true));
    assert_eq!(value("X && true").to_string(), "X && true");
    // Evaluation takes only the branch PHP takes: the other is neither asked nor reported.
    let v = value("getenv('A') ? getenv('B') : getenv('C')").evaluate(&env);
    assert_eq!(v.value, PhpValue::Bool(false));
    assert_eq!(v.sources.iter().map(|s| s.what.as_str()).collect::<Vec<_>>(), ["getenv('A')", "getenv('B')"]);
    let v = value("getenv('E') && getenv('Z')").evaluate(&NoScope);
    assert_eq!(v.unknown, ["getenv('E')", "getenv('Z')"]);
    let v = value("getenv('E') && getenv('Z')").evaluate(&env);
    assert_eq!((v.value, v.sources.len()), (PhpValue::Bool(false), 1));
}

#[test]
fn unresolved_expressions_print_with_the_parentheses_they_need() {
    assert_eq!(value("(X + 1) * 2").to_string(), "(X + 1) * 2");
    assert_eq!(value("X + 1 * 2").to_string(), "X + 2");
    assert_eq!(value("X - (Y - Z)").to_string(), "X - (Y - Z)");
    assert_eq!(value("X ** Y ** Z").to_string(), "X ** Y ** Z");
    assert_eq!(value("(X ** Y) ** Z").to_string(), "(X ** Y) ** Z");
    assert_eq!(value("'a' . (X ?: 'b')").to_string(), "'a' . (X ?: 'b')");
    assert_eq!(value("(X ? 1 : 2) ? 3 : 4").to_string(), "(X ? 1 : 2) ? 3 : 4");
    assert_eq!(value("-(X + 1)").to_string(), "-(X + 1)");
    assert_eq!(value("(X . 'a')[0]").to_string(), "(X . 'a')[0]");
    assert_eq!(value("$cfg->get('a')?->b").to_string(), "$cfg->get('a')?->b");
    assert_eq!(value("X xor Y").to_string(), "X xor Y");
}
