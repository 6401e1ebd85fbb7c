using Microsoft.Extensions.Logging;
using PricingOptimizer.Client;

// A shop's checkout: show each visitor the experiment's price, record who buys. Run it against an API:
//   dotnet run --project samples/checkout -- --api http://127.0.0.1:5080 --key po_… --experiment spring [--users 20] [--default-price 9.99]
//     [--timeout-ms 500]   (how long a visitor may wait for the API before the fallback price)
// Whatever the API does (down, slow, the experiment paused or unknown), every visitor is shown a price.
var settings = Arguments(args);
if (settings is null)
{
    Console.Error.WriteLine("usage: checkout --api URL --key API_KEY --experiment ID [--users N] [--default-price PRICE] [--timeout-ms MS]");
    return 2;
}

using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true));
await using var po = new PricingOptimizerClient(new PricingOptimizerClientOptions
{
    BaseAddress = settings.Api,
    ApiKey = settings.Key,
    Logger = logging.CreateLogger("pricing"),
    EvaluationTimeout = settings.Timeout,
});
po.Failed += failure => Console.WriteLine($"not delivered: {failure.EventId} ({failure.Reason})");
po.Rejected += rejection => Console.WriteLine($"refused: {rejection.EventId} ({rejection.Field}: {rejection.Reason})");

var random = new Random(7);
for (var visitor = 1; visitor <= settings.Users; visitor++)
{
    var userId = $"visitor-{visitor}";
    var offer = await po.AssignAsync(settings.Experiment, userId, settings.DefaultPrice);
    var shown = offer.InExperiment ? $"{offer.VariantId}" : $"fallback: {offer.FallbackReason}";
    Console.WriteLine($"{userId}: {offer.Price} {offer.Currency} ({shown})");
    if (random.NextDouble() < 0.3)
    {
        await po.TrackConversionAsync(settings.Experiment, userId, eventId: $"order-{visitor}", revenue: offer.Price);
    }
}

await po.FlushAsync();
Console.WriteLine($"sent {po.Sent} events; fallbacks: " +
                  (po.Fallbacks.Count == 0 ? "none" : string.Join(", ", po.Fallbacks.Select(f => $"{f.Key} {f.Value}"))));
return 0;

static Settings? Arguments(string[] args)
{
    string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    if (!Uri.TryCreate(Value("--api"), UriKind.Absolute, out var api) || Value("--key") is not { } key || Value("--experiment") is not { } experiment)
    {
        return null;
    }

    var users = int.TryParse(Value("--users"), out var n) && n > 0 ? n : 20;
    var defaultPrice = decimal.TryParse(Value("--default-price"), System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : 9.99m;
    var timeout = TimeSpan.FromMilliseconds(int.TryParse(Value("--timeout-ms"), out var ms) && ms > 0 ? ms : 500);
    return new Settings(api, key, experiment, users, defaultPrice, timeout);
}

internal sealed record Settings(Uri Api, string Key, string Experiment, int Users, decimal DefaultPrice, TimeSpan Timeout);
