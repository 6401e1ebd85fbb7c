using PricingOptimizer.IngestApi;

var builder = WebApplication.CreateBuilder(args);
builder.AddPricingOptimizerIngestApi();

var app = builder.Build();
app.UsePricingOptimizerIngestApi();
app.MapPricingOptimizerIngestApi();
app.Run();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
