import { registerEnumType } from "type-graphql";
import { Mode } from "../api/enums";

export { Mode };


registerEnumType(Mode, { name: "Mode", description: "TEST (no real money, mock operators) or LIVE" });
