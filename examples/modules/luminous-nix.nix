# infragen: placeholder. A stand-in for Luminous Nix's own NixOS module: seed 004 shows
# services.luminous-nix with api.port and websocket.port. Replace this file with it; until
# then a build stops at the assertion below instead of deploying nothing.
{ config, lib, ... }:
{
  options.services.luminous-nix = {
    enable = lib.mkEnableOption "Luminous Nix, natural language interface for NixOS";
    api.port = lib.mkOption {
      type = lib.types.port;
      default = 3456;
    };
    websocket.port = lib.mkOption {
      type = lib.types.port;
      default = 3457;
    };
  };
  config = lib.mkIf config.services.luminous-nix.enable {
    assertions = [
      {
        assertion = false;
        message = "modules/luminous-nix.nix is a stand-in: replace it with Luminous Nix's NixOS module";
      }
    ];
  };
}
