import { registerEnumType } from "type-graphql";

/** Test keys act on test tasks and test money only; live keys on real ones. */
export enum Mode {
  TEST = "TEST",
  LIVE = "LIVE",
}

registerEnumType(Mode, { name: "Mode", description: "TEST (no real money, mock operators) or LIVE" });
