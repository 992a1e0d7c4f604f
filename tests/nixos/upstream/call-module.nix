# Evaluates a nixpkgs service module (a verbatim upstream file beside this one) without
# nixpkgs: `lib` holds only what such a module calls, each option takes its declared
# default unless `settings` (the values infragen renders for it) gives one; `config` holds
# those option values (defaults may refer to other options, as `models` to `home`). What
# comes out is the `config` the module contributes, to read the upstream behaviour from.
{
  module,
  path,
  settings,
}:
let
  lib = {
    types = {
      str = "str";
      bool = "bool";
      port = "port";
      nullOr = type: type;
      enum = values: values;
      listOf = type: type;
      attrsOf = type: type;
    };
    mkOption = declaration: declaration;
    mkEnableOption = _: { default = false; };
    mkPackageOption = pkgs: name: _: { default = pkgs.${name}; };
    mkRemovedOptionModule = _: _: { };
    literalExpression = text: text;
    mkIf = condition: value: if condition then value else { };
    optionalAttrs = condition: value: if condition then value else { };
    optionalString = condition: text: if condition then text else "";
    getExe = package: "${package}/bin/${package.pname}";
    escapeShellArg = value: "'${value}'";
    escapeShellArgs = values: builtins.concatStringsSep " " (map lib.escapeShellArg values);
    concatStringsSep = builtins.concatStringsSep;
    maintainers = { };
  };
  package = {
    pname = "ollama";
    outPath = "/nix/store/stub-ollama";
    override = _: package;
  };
  at = attrs: keys: builtins.foldl' (node: key: node.${key}) attrs keys;
  nest = keys: value: builtins.foldl' (inner: key: { ${key} = inner; }) value (
    builtins.genList (i: builtins.elemAt keys (builtins.length keys - 1 - i)) (builtins.length keys)
  );
  result = import module {
    inherit lib;
    pkgs.ollama = package;
    config = nest path (defaults // settings);
  };
  defaults = builtins.mapAttrs (_: option: option.default or null) (at result.options path);
in
result.config
