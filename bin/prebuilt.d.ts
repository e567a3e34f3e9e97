export declare function freshBuild(file: string, skipGenerated: boolean): boolean;
