using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Errors;
using PricingOptimizer.Json;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Billing;

/// <summary>
/// A tenant's choice of billing adapter, checked before it is kept: a known provider and mode; the manual ledger has
/// no BYOK; managed mode needs the platform's key for that provider, BYOK the tenant's own stored key; Paid.ai needs
/// the platform's base URL. Each refusal names the field to change.
/// </summary>
public sealed class BillingAdapterChoice(IBillingStore store, KeyManager keys, IOptions<BillingOptions> options, TimeProvider time)
{
    /// <exception cref="InvalidInputException">The choice cannot deliver; the field and what to do.</exception>
    public async Task<BillingSettings> SetAsync(string tenantId, string? providerText, string? modeText, CancellationToken cancellationToken)
    {
        if (providerText is null)
        {
            throw new InvalidInputException("send {provider, mode}", "provider");
        }

        if (!Wire.TryParse<BillingProvider>(providerText, out var provider))
        {
            throw new InvalidInputException($"provider '{providerText}' is not one of {Wire.Names<BillingProvider>()}", "provider");
        }

        var mode = BillingMode.Managed;
        if (modeText is not null && !Wire.TryParse(modeText, out mode))
        {
            throw new InvalidInputException($"mode '{modeText}' is not {string.Join(" or ", Enum.GetValues<BillingMode>().Select(m => Wire.Name(m)))}", "mode");
        }

        var name = Wire.Name(provider);
        if (provider == BillingProvider.Manual && mode == BillingMode.Byok)
        {
            throw new InvalidInputException("the manual adapter has no provider account, so no BYOK mode", "mode");
        }

        var o = options.Value;
        if (mode == BillingMode.Managed && provider != BillingProvider.Manual && o.PlatformKey(provider) is null)
        {
            throw new InvalidInputException($"this platform has no {name} key of its own; use mode byok with your key (PUT /v1/provider-keys/{name})", "mode");
        }

        if (mode == BillingMode.Byok && (await keys.ListAsync(tenantId, cancellationToken)).All(k => k.Provider != name))
        {
            throw new InvalidInputException($"store your {name} key first with PUT /v1/provider-keys/{name}", "mode");
        }

        if (provider == BillingProvider.PaidAi && o.PaidAi.BaseUrl is null)
        {
            throw new InvalidInputException("this platform has no Paid.ai base URL configured (Billing:PaidAi:BaseUrl)", "provider");
        }

        var settings = new BillingSettings(tenantId, provider, mode, time.GetUtcNow());
        await store.SetBillingAsync(settings, cancellationToken);
        return settings;
    }
}
