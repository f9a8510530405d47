import { Field, Float, Int, ObjectType } from "type-graphql";
import { Task } from "./task.entity";

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: "Pass as `after` for the next page" })
  endCursor?: string;
}

@ObjectType()
export class TaskConnection {
  @Field(() => [Task])
  nodes!: Task[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: "Tasks matching the filter, over all pages" })
  totalCount!: number;
}

@ObjectType()
export class AvailableTask {
  @Field(() => Task)
  task!: Task;

  @Field(() => Float, { description: "Great-circle distance from the search point" })
  distanceKm!: number;
}
