import { Entity, Enum, JsonType, ManyToOne, OneToOne, Property } from "@mikro-orm/core";
import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Proof } from "../proofs/proof.entity";
import { Task } from "../tasks/task.entity";
import { GuardianCheck } from "./guardian.checks";
import { Verdict } from "../api/enums";

export { Verdict };

registerEnumType(Verdict, { name: "Verdict", description: "The Guardian's verdict on a proof" });

/** The Guardian's score of one proof, with the reasons behind it. */
@ObjectType()
@Entity({ tableName: "verifications" })
export class Verification extends BaseEntity {
  @ManyToOne(() => Task)
  task: Task;

  @OneToOne(() => Proof, { owner: true, unique: true })
  proof: Proof;

  @Field(() => Int, { description: "0-100" })
  @Property({ type: "integer" })
  score: number;

  @Field(() => Verdict)
  @Enum({ items: () => Verdict })
  verdict: Verdict;

  @Field(() => [String])
  @Property({ type: JsonType })
  reasons: string[];

  @Field(() => String, { description: "Which scorer produced the score" })
  @Property({ type: "string", length: 64 })
  scorer: string;

  @Field(() => [GuardianCheck], { description: "The checks the score follows from (rules: docs/proof.md, AI Guardian: check by check); empty for a proof scored before checks were recorded" })
  @Property({ type: JsonType, default: "[]" })
  checks: GuardianCheck[];

  constructor(task: Task, proof: Proof, score: number, verdict: Verdict, reasons: string[], scorer: string, checks: GuardianCheck[] = []) {
    super();
    this.task = task;
    this.proof = proof;
    this.score = score;
    this.verdict = verdict;
    this.reasons = reasons;
    this.scorer = scorer;
    this.checks = checks;
  }
}
