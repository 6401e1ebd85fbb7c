using PricingOptimizer.Pipelines.Cli;

return await PoCommandLine.RunAsync(args);
